/** `pnpm bench [filter…]`: runs every scenario in `test/bench/*.bench.ts` whose name matches a filter. */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createContext, summarize, type Scenario } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const outDir = join(here, '..', '..', 'bench-results')
const filters = process.argv.slice(2)
const full = process.env.SKEIN_BENCH_FULL === '1'

const fmt = (n: number) =>
  Number.isNaN(n) ? '-' : n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(3)

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort()
const rows: string[][] = [
  ['scenario', 'metric', 'unit', 'median', 'p99', 'n', 'peer', 'peer median', 'ours/peer'],
]
await mkdir(outDir, { recursive: true })
let failed = 0
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Scenario[] }
  for (const scenario of mod.default) {
    if (filters.length && !filters.some((f) => scenario.name.includes(f) || file.includes(f)))
      continue
    process.stderr.write(`▶ ${scenario.name}: ${scenario.description}\n`)
    const { ctx, cleanup } = createContext(full)
    try {
      const result = await scenario.run(ctx)
      const metrics = result.metrics.map((m) => {
        const ours = summarize(m.samples)
        const peers = Object.fromEntries(
          Object.entries(m.peers ?? {}).map(([p, s]) => [p, summarize(s)]),
        )
        const ratios = Object.fromEntries(
          Object.entries(peers).map(([p, s]) => [p, ours.median / s.median]),
        )
        rows.push([
          scenario.name,
          m.name,
          m.unit,
          fmt(ours.median),
          fmt(ours.p99),
          String(ours.n),
          '',
          '',
          '',
        ])
        for (const [p, s] of Object.entries(peers))
          rows.push(['', '', '', '', '', '', p, fmt(s.median), fmt(ratios[p] ?? NaN)])
        return {
          name: m.name,
          unit: m.unit,
          lowerIsBetter: m.lowerIsBetter ?? true,
          ours,
          peers,
          ratios,
          samples: m.samples,
        }
      })
      const record = {
        scenario: scenario.name,
        description: scenario.description,
        date: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpu: cpus()[0]?.model,
          memGiB: Math.round(totalmem() / 2 ** 30),
          platform: process.platform,
        },
        node: process.version,
        metrics,
        notes: result.notes ?? [],
      }
      await writeFile(join(outDir, `${scenario.name}.json`), JSON.stringify(record, null, 2))
      for (const n of result.notes ?? []) process.stderr.write(`  note: ${n}\n`)
    } catch (err) {
      failed++
      process.stderr.write(`✗ ${scenario.name} failed: ${(err as Error).stack ?? String(err)}\n`)
      rows.push([scenario.name, 'FAILED', '', '', '', '', '', '', ''])
    } finally {
      await cleanup()
    }
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '))
console.log(`\nresults: ${outDir}`)
if (failed) process.exitCode = 1
