// Lint for the whole monorepo. The layer rules enforce the package direction of
// ARCHITECTURE.md section 1 (arrows point at what a package may import):
//   common <- everything; storage -> common; indexes -> storage, common;
//   txn -> storage, common; query -> common, apache-arrow, libpg-query;
//   engine -> the four above; server -> engine; apps -> server, engine.
import tseslint from 'typescript-eslint';
import { layerRules } from './tooling/eslint-config/layers.js';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'tooling/eslint-config/fixtures/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      'no-debugger': 'error',
      'no-duplicate-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  ...layerRules,
);
