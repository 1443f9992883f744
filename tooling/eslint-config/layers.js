// Package direction rules (ARCHITECTURE.md section 1), as eslint `no-restricted-imports`
// per folder glob. Each entry names what a layer may NOT import; everything else in the
// workspace is allowed only if it is listed in the layer's arrows.
//
// Invariant: a workspace package may import only the packages its arrows allow.
const ALL = ['@quiverdb/common', '@quiverdb/storage', '@quiverdb/indexes', '@quiverdb/txn', '@quiverdb/query', 'quiverdb', '@quiverdb/server'];

/** layer folder glob -> workspace packages it may import */
export const allowed = {
  'packages/common': [],
  'packages/storage': ['@quiverdb/common'],
  'packages/indexes': ['@quiverdb/common', '@quiverdb/storage'],
  'packages/txn': ['@quiverdb/common', '@quiverdb/storage'],
  'packages/query': ['@quiverdb/common'],
  'packages/engine': ['@quiverdb/common', '@quiverdb/storage', '@quiverdb/indexes', '@quiverdb/txn', '@quiverdb/query'],
  'packages/server': ['quiverdb', '@quiverdb/common'],
  'apps/cli': ['quiverdb', '@quiverdb/server', '@quiverdb/common'],
  'apps/server': ['quiverdb', '@quiverdb/server', '@quiverdb/common'],
};

/** Third-party packages a layer must not use (query is pure: common + arrow + parser). */
const bannedThirdParty = {
  'packages/common': ['apache-arrow', 'parquet-wasm', 'libpg-query', 'fastify'],
  'packages/query': ['parquet-wasm', 'fastify', 'node:fs', 'fs', 'node:fs/promises', 'fs/promises'],
  'packages/storage': ['libpg-query', 'fastify'],
};

export const layerRules = Object.entries(allowed).map(([dir, ok]) => {
  const banned = ALL.filter((p) => !ok.includes(p) && !dir.endsWith(p.replace('@quiverdb/', '')) && !(dir === 'packages/engine' && p === 'quiverdb'));
  const paths = [...banned, ...(bannedThirdParty[dir] ?? [])].map((name) => ({
    name,
    message: `layer rule: ${dir} may not import ${name} (see ARCHITECTURE.md section 1)`,
  }));
  return {
    files: [`${dir}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths,
          patterns: [
            { group: ['../../*/src/**', '../../../packages/*/src/**', '**/packages/*/src/**'], message: 'layer rule: import workspace packages by name, never by relative path into another package' },
            ...banned.map((p) => ({ group: [`${p}/*`], message: `layer rule: ${dir} may not import ${p}` })),
          ],
        },
      ],
    },
  };
});
