import { defineConfig } from 'vitest/config';
import { sharedConfig } from '@quiverdb/tsconfig/vitest';
// vitest passes resolve.conditions to the worker as `node --conditions ...`, and Node applies
// them to require() too: with 'import' among them, CommonJS `pg` requires the ESM build of
// `pg-pool` and fails ("Class extends value [object Module]"). Vite adds 'import' for ESM
// imports on its own, so it is dropped from the list here.
const shared = sharedConfig();
const conditions = ['@quiverdb/source', 'node', 'module', 'default'];
export default defineConfig({ ...shared, resolve: { conditions }, ssr: { resolve: { conditions, externalConditions: ['node'] } } });
