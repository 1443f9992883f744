import { defineConfig } from 'vitest/config';
import { sharedConfig } from '@quiverdb/tsconfig/vitest';
export default defineConfig(sharedConfig());
