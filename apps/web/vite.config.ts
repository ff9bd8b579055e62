import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defineConfig } from 'vite'

/**
 * `@skein/*` packages resolve to their TypeScript sources through the
 * `@skein/source` export condition, so the web app needs no prior `tsc` build.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  resolve: {
    conditions: ['@skein/source', ...defaultClientConditions],
    dedupe: ['yjs', 'y-protocols', 'lib0', '@codemirror/state', '@codemirror/view'],
  },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
  },
})
