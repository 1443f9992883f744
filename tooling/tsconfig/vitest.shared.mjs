// Shared vitest settings: resolve workspace packages to their TypeScript source
// through the "@quiverdb/source" export condition, so tests need no build step.
export const sourceConditions = ['@quiverdb/source', 'node', 'import', 'module', 'default'];
export function sharedConfig(extra = {}) {
  return {
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ['node', 'import'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...extra,
    },
  };
}
