import { defineConfig } from 'tsup';
// Two entries: the library (index) and the bin (quiver-server, whose source starts with the
// `#!/usr/bin/env node` line that esbuild keeps and tsup marks executable).
export default defineConfig({
  entry: ['src/index.ts', 'src/quiver-server.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  target: 'node20',
  external: ['libpg-query'],
});
