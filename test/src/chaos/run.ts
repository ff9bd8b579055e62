/**
 * Runs one seeded chaos history end to end and returns what the oracle found.
 * A failing run writes its op log and the agents' stderr tails to
 * `test/artifacts/chaos-<seed>.log`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRng, fuzzSeed, type Rng } from '@skein/core/testing'
import { REPO } from '../helpers/cli.js'
import { History, type HistoryOptions } from './history.js'
import { checkAtRest, checkRestore, snapshotOf, type Checkpoint } from './oracle.js'
import { ChaosWorld } from './world.js'
import { readTree } from './tree.js'

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
  return finish(world, history, seed, violations)
}

/** What a fault scenario's body gets. */
export interface ScenarioContext {
  world: ChaosWorld
  history: History
  rng: Rng
}

/**
 * Runs a named fault scenario: starts the server and `devices` agents, runs
 * `body` (which injects its fault and does operations through `history`, so
 * every token is in the ledger), then brings the system to rest and checks
 * the oracle — plus, when `snapshot` is set, a snapshot-and-restore round trip.
 */
export async function runScenario(
  name: string,
  o: { devices?: number; startServer?: boolean; snapshot?: boolean },
  body: (c: ScenarioContext) => Promise<void>,
): Promise<ChaosRunResult> {
  const seed = fuzzSeed(`chaos scenario: ${name}`)
  const rng = createRng(seed)
  const devices = o.devices ?? 3
  const world = new ChaosWorld(devices, { workspace: `fault${seed}` })
  world.note(`scenario ${name}; seed ${seed}`)
  const history = new History(world, rng)
  const violations: string[] = []
  try {
    await world.init()
    if (o.startServer !== false) {
      await world.startServer()
      for (let i = 0; i < devices; i++) await world.startDevice(i)
    }
    await body({ world, history, rng })
    world.note('-- bringing the system to rest')
    const rest = await world.quiesce()
    violations.push(...checkAtRest(rest, history.ledger))
    if (o.snapshot && rest.converged) {
      const cp = await snapshotOf(world, world.devices[0]?.root ?? '')
      violations.push(...(await checkRestore(world, cp)))
    }
  } catch (e) {
    violations.push(`harness error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  }
  for (const line of violations) world.note(`VIOLATION ${line}`)
  return finish(world, history, seed, violations)
}

async function finish(
  world: ChaosWorld,
  history: History,
  seed: number,
  violations: string[],
): Promise<ChaosRunResult> {
  let logFile: string | undefined
  if (violations.length) {
    const dir = join(REPO, 'test', 'artifacts')
    mkdirSync(dir, { recursive: true })
    logFile = join(dir, `chaos-${seed}.log`)
    const files = world.devices.map((d) =>
      [...readTree(d.root)]
        .map(
          ([p, n]) =>
            `  ${p} ${n.kind === 'dir' ? '/' : JSON.stringify(Buffer.from(n.bytes).toString('utf8').slice(0, 400))}`,
        )
        .join('\n'),
    )
    writeFileSync(
      logFile,
      [...world.log, '', ...files.map((f, i) => `--- d${i} files\n${f}`), world.dump()].join('\n'),
    )
  }
  await world.cleanup(violations.length > 0 && !!process.env.SKEIN_CHAOS_KEEP)
  return {
    seed,
    violations,
    ops: [...history.counts.values()].reduce((a, b) => a + b, 0),
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
