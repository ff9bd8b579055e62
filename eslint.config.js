// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Which of our packages each package may import (DESIGN.md §1: imports point downward). */
const LAYERS = {
  core: [],
  workspace: ['core'],
  merge: ['core'],
  protocol: ['core'],
  client: ['core', 'protocol'],
  server: ['core', 'protocol'],
  'store-leveldb': ['core'],
  cloud: ['core', 'merge'],
  'cloud-s3': ['core', 'cloud'],
  agent: ['core', 'workspace', 'merge', 'protocol', 'client'],
}
/** Packages that must run in a browser: no `node:*` and no Node built-ins. */
const BROWSER_SAFE = ['core', 'workspace', 'merge', 'protocol', 'client']
const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'crypto',
  'child_process',
  'net',
  'http',
  'https',
  'stream',
  'url',
  'util',
  'events',
  'buffer',
  'worker_threads',
  'zlib',
]

const layerRules = Object.entries(LAYERS).map(([pkg, allowed]) => {
  const patterns = [
    {
      group: ['@skein/*', ...allowed.flatMap((a) => [`!@skein/${a}`, `!@skein/${a}/*`])],
      message: `@skein/${pkg} may import only ${allowed.length ? allowed.map((a) => '@skein/' + a).join(', ') : 'no other @skein package'} (DESIGN.md §1 layering).`,
    },
    {
      group: ['**/packages/*', '../../*'],
      message: 'Import other packages by name, never by relative path.',
    },
  ]
  const browser = BROWSER_SAFE.includes(pkg)
  if (browser) {
    patterns.push({
      group: ['node:*', ...NODE_BUILTINS],
      message: `@skein/${pkg} is browser-safe: no Node built-ins (DESIGN.md §1).`,
    })
    patterns.push({
      group: ['@skein/core/node'],
      message: `@skein/${pkg} is browser-safe: use @skein/core, not @skein/core/node.`,
    })
  }
  return {
    files: [`packages/${pkg}/src/**/*.ts`],
    ignores: browser
      ? [
          '**/*.test.ts',
          `packages/core/src/node.ts`,
          'packages/core/src/node/**',
          'packages/core/src/testing/**',
        ]
      : ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  }
})

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'bench-results/**',
      'test/artifacts/**',
      'apps/web/public/**',
      '**/*.cjs',
      'apps/cli/bin/**',
      'eslint.config.js',
      'vitest.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules,
  {
    // Tests print Yjs types (Y.Text#toString is real, but its typings hide it from this rule).
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-base-to-string': 'off' },
  },
)
