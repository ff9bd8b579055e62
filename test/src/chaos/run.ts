/**
 * Runs one seeded chaos history end to end and returns what the oracle found.
 * A failing run writes its op log and the agents' stderr tails to
 * `test/artifacts/chaos-<seed>.log`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRng } from '@skein/core/testing'
import { REPO } from '../helpers/cli.js'
import { History, type HistoryOptions } from './history.js'
import { checkAtRest, checkRestore, snapshotOf, type Checkpoint } from './oracle.js'
import { ChaosWorld } from './world.js'

export interface ChaosRunOptions extends HistoryOptions {
  devices?: number
  /** Operations per segment; the system is brought to rest and checked after each. */
  ops: number
  segments: number
}

export interface ChaosRunResult {
  seed: number
  violations: string[]
  ops: number
  counts: Map<string, number>
  tokens: number
  log: string[]
  /** Where the log was written when there were violations. */
  logFile: string | undefined
}

export async function runChaos(seed: number, o: ChaosRunOptions): Promise<ChaosRunResult> {
  const rng = createRng(seed)
  const devices = o.devices ?? 3
  const skewDevice = rng.int(devices)
  const skewMs = (rng.chance(0.5) ? 1 : -1) * 3_600_000
  const world = new ChaosWorld(devices, {
    workspace: `chaos${seed}`,
    clockSkew: { device: skewDevice, ms: skewMs },
  })
  world.note(`seed ${seed}; d${skewDevice} clock skewed by ${skewMs / 60_000} min`)
  const history = new History(world, rng, o)
  const violations: string[] = []
  let checkpoint: Checkpoint | undefined
  try {
    await world.startServer()
    for (let i = 0; i < devices; i++) await world.startDevice(i)
    for (let s = 0; s < o.segments; s++) {
      await history.run(o.ops)
      world.note(`-- segment ${s + 1}: bringing the system to rest`)
      const rest = await world.quiesce()
      const v = checkAtRest(rest, history.ledger)
      for (const line of v) world.note(`VIOLATION ${line}`)
      violations.push(...v)
      if (!rest.converged) break
      const root = world.devices[rng.int(devices)]?.root
      if (root) {
        checkpoint = await snapshotOf(world, root)
        world.note(`-- snapshot ${checkpoint.snapshot} of ${root} (${checkpoint.files.size} files)`)
      }
    }
    if (checkpoint) {
      const v = await checkRestore(world, checkpoint)
      for (const line of v) world.note(`VIOLATION ${line}`)
      violations.push(...v)
    }
  } catch (e) {
    violations.push(`harness error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  }
  let logFile: string | undefined
  if (violations.length) {
    const dir = join(REPO, 'test', 'artifacts')
    mkdirSync(dir, { recursive: true })
    logFile = join(dir, `chaos-${seed}.log`)
    writeFileSync(logFile, [...world.log, '', world.dump()].join('\n'))
  }
  await world.cleanup(violations.length > 0 && !!process.env.SKEIN_CHAOS_KEEP)
  const ops = [...history.counts.values()].reduce((a, b) => a + b, 0)
  return {
    seed,
    violations,
    ops,
    counts: history.counts,
    tokens: history.ledger.written.size,
    log: world.log,
    logFile,
  }
}

/** One line summarising a run, for the test output and the issue note. */
export function summary(r: ChaosRunResult): string {
  const kinds = [...r.counts.entries()]
    .sort()
    .map(([k, n]) => `${k}=${n}`)
    .join(' ')
  return `[chaos] seed=${r.seed} ops=${r.ops} tokens=${r.tokens} violations=${r.violations.length} (${kinds})${r.logFile ? ` log: ${r.logFile}` : ''}`
}
