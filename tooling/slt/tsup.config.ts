import { defineConfig } from 'tsup';
// Two entries: the library (index) and the `quiver-slt` command (cli, with a shebang).
// `quiverdb` stays external (a dependency): it resolves to packages/engine/dist at run time.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  target: 'node20',
  external: ['libpg-query', 'quiverdb'],
  banner: { js: '#!/usr/bin/env node' },
});
