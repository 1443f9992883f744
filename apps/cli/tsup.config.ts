import { defineConfig } from 'tsup';
// Two entries: the library (index) and the `quiver` executable (quiver.js, with a shebang).
// Dependencies (quiverdb, commander, apache-arrow) stay external.
export default defineConfig({
  entry: ['src/index.ts', 'src/quiver.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  target: 'node20',
  external: ['libpg-query', 'quiverdb'],
  banner: { js: '#!/usr/bin/env node' },
});
