import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

/** Resolve every `@skein/*` import to its TypeScript source, so tests need no build. */
function sourceAliases() {
  const aliases: { find: RegExp; replacement: string }[] = []
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(group)) {
      const pj = join(group, dir, 'package.json')
      if (!existsSync(pj)) continue
      const { name, exports } = JSON.parse(readFileSync(pj, 'utf8')) as {
        name: string
        exports?: Record<string, { '@skein/source'?: string }>
      }
      for (const [sub, target] of Object.entries(exports ?? {})) {
        const src = target['@skein/source']
        if (!src) continue
        const spec = sub === '.' ? name : `${name}/${sub.slice(2)}`
        aliases.push({
          find: new RegExp(`^${spec.replace(/[/.]/g, '\\$&')}$`),
          replacement: resolve(group, dir, src),
        })
      }
    }
  }
  return aliases
}

export default defineConfig({
  resolve: { alias: sourceAliases() },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
