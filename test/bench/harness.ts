/**
 * The benchmark harness: every `*.bench.ts` under `test/bench/` default-exports
 * an array of scenarios; `pnpm bench [filter]` runs them, writes one JSON result
 * per scenario to `bench-results/` (git-ignored) and prints a table.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One measured quantity. `samples` are ours; `peers` the same quantity measured on peers in the same run. */
export interface Metric {
  name: string
  unit: string
  samples: number[]
  /** Same measurement for peer implementations (e.g. `git merge-file`, `rclone`), same run. */
  peers?: Record<string, number[]>
  /** Lower is better (times, bytes) unless false (throughput). Default true. */
  lowerIsBetter?: boolean
}

export interface ScenarioResult {
  metrics: Metric[]
  /** Free-text facts worth keeping next to the figures (e.g. "synthetic trace: real one absent"). */
  notes?: string[]
}

export interface BenchContext {
  /** A fresh temp directory, removed after the scenario. */
  tmpDir(): Promise<string>
  /** Progress line on stderr. */
  log(msg: string): void
  /** `SKEIN_BENCH_FULL=1`: larger sizes / more repetitions. */
  full: boolean
}

export interface Scenario {
  name: string
  description: string
  run(ctx: BenchContext): Promise<ScenarioResult>
}

export function defineScenarios(...scenarios: Scenario[]): Scenario[] {
  return scenarios
}

export interface Summary {
  n: number
  median: number
  p99: number
  min: number
  max: number
}

/** Median, p99 (nearest rank), min, max. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, median: NaN, p99: NaN, min: NaN, max: NaN }
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number
  return {
    n: s.length,
    median: at(0.5),
    p99: at(0.99),
    min: s[0] as number,
    max: s[s.length - 1] as number,
  }
}

/** Runs `fn` `n` times (after `warmup` unmeasured runs) and returns the durations in ms. */
export async function timeIt(n: number, fn: () => unknown, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    out.push(performance.now() - t0)
  }
  return out
}

/** Creates the context for one scenario and cleans its temp dirs afterwards. */
export function createContext(full: boolean): { ctx: BenchContext; cleanup: () => Promise<void> } {
  const dirs: string[] = []
  const ctx: BenchContext = {
    full,
    log: (msg) => process.stderr.write(`  … ${msg}\n`),
    tmpDir: async () => {
      const d = await mkdtemp(join(tmpdir(), 'skein-bench-'))
      dirs.push(d)
      return d
    },
  }
  return {
    ctx,
    cleanup: async () =>
      void (await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))),
  }
}
