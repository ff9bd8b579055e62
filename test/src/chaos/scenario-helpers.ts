/**
 * Small helpers shared by the named fault scenarios (disk, input, provider):
 * polling, switching a device's disk faults, user-like file operations only,
 * and reading what a device reported.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Rng } from '@skein/core/testing'
import type { DeviceReport } from './device-child.js'
import type { History, OpKind } from './history.js'
import { treeDiff } from './tree.js'
import type { ChaosWorld } from './world.js'

/** Polls `fn` every 100 ms until it returns something other than undefined/false; throws after `ms`. */
export async function poll<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The disk faults of one device (see fault-fs.ts), switched by flag files. */
export interface DiskFaults {
  dir: string
  /** Fails writes (`enospc`) or reads (`eacces`) of paths containing `fragment`. */
  set(kind: 'enospc' | 'eacces', fragment: string): void
  clear(kind: 'enospc' | 'eacces'): void
}

/** Arms device `i` for disk faults (takes effect at its next start). */
export function diskFaults(world: ChaosWorld, i: number): DiskFaults {
  const d = world.devices[i]
  if (!d) throw new Error(`no device ${i}`)
  const dir = join(world.base, `faults-${d.name}`)
  mkdirSync(dir, { recursive: true })
  d.env = { ...d.env, SKEIN_CHAOS_FAULTS: dir }
  return {
    dir,
    set: (kind, fragment) => {
      world.note(`-- fault: ${kind} on ${d.name} for paths containing ${fragment}`)
      writeFileSync(join(dir, kind), fragment)
    },
    clear: (kind) => {
      world.note(`-- fault healed: ${kind} on ${d.name}`)
      rmSync(join(dir, kind), { force: true })
    },
  }
}

/** Every issue and error message a device reported, one per line. */
export function reportText(r: DeviceReport): string {
  return [
    ...r.issues.map((i) => `issue ${i.kind} ${i.path}: ${i.message}`),
    ...r.errors.map((e) => `error ${e}`),
  ].join('\n')
}

const FILE_OPS: OpKind[] = [
  'create',
  'create',
  'append',
  'append',
  'insert',
  'editorSave',
  'rename',
  'move',
  'delete',
  'binary',
]

/** Runs `n` random user file operations (no network or process faults) on random devices. */
export async function fileOps(history: History, rng: Rng, n: number): Promise<void> {
  for (let k = 0; k < n; k++) await history.one(FILE_OPS[rng.int(FILE_OPS.length)] ?? 'append')
}

/** Brings the world to rest mid-scenario and fails loudly when it does not converge. */
export async function settle(world: ChaosWorld, what: string): Promise<void> {
  world.note(`-- settling: ${what}`)
  const rest = await world.quiesce(60_000)
  if (rest.converged) return
  // quiesce() may give up between polls with no problem recorded: say how the folders and the CRDT differ.
  const tree = rest.trees[0]
  const crdt = tree && (await world.readCrdt().catch(() => undefined))
  const diff = tree && crdt ? treeDiff(tree, crdt, 'd0', 'crdt') : []
  throw new Error(
    `the system did not come to rest (${what}): ${[...rest.problems, ...diff].join('; ')}`,
  )
}

/** Writes a file under a device's root, creating folders (as a user or editor would). */
export function put(root: string, path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), data)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
