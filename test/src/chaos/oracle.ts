/**
 * The chaos oracle. At rest: (1) all folders byte-identical, (2) equal to the
 * server's CRDT, (3) every token written and not deliberately removed is in
 * some file (a note or a conflict copy), (4) no temp or partial files, (5) a
 * snapshot restores byte-identical to the folder it was taken of, and (6) a
 * folder the history deleted does not come back empty.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTempName } from '@skein/agent'
import { FolderProvider, backup, restore } from '@skein/cloud'
import type { SnapshotStoreOptions } from '@skein/cloud'
import { tokensIn, type Ledger } from './history.js'
import { filesOnly, readTree, treeDiff, type Tree } from './tree.js'
import type { AtRest, ChaosWorld } from './world.js'

/** Checks (1)–(4) and (6) on a world at rest; returns the violations (empty when all hold). */
export function checkAtRest(rest: AtRest, ledger: Ledger): string[] {
  const v: string[] = []
  if (!rest.converged) {
    v.push(`(1/2) did not converge: ${rest.problems.join('; ')}`)
  }
  const tree = rest.trees[0]
  if (!tree) return v
  // (3) tokens
  const present = new Set<string>()
  for (const n of tree.values())
    if (n.kind === 'file') for (const t of tokensIn(n.bytes)) present.add(t)
  // A token the folders lost may still be on a device that did not converge: search them all.
  for (const t of rest.trees.slice(1))
    for (const n of t.values())
      if (n.kind === 'file') for (const tok of tokensIn(n.bytes)) present.add(tok)
  const lost = [...ledger.written.keys()].filter((t) => !ledger.removed.has(t) && !present.has(t))
  if (lost.length)
    v.push(
      `(3) ${lost.length} token(s) lost: ${lost
        .slice(0, 10)
        .map((t) => `${t} (${ledger.written.get(t) ?? '?'})`)
        .join(', ')}`,
    )
  // (6) a folder the history deleted, with nothing under it touched since, is not
  // back: at most with what other devices wrote into it concurrently (edits win)
  for (const [d, op] of ledger.deletedFolders) {
    if (tree.get(d)?.kind !== 'dir') continue
    const holds = [...tree].some(([p, n]) => n.kind === 'file' && p.startsWith(`${d}/`))
    if (!holds) v.push(`(6) ${d}, deleted by ${op}, came back empty`)
  }
  // (4) temp and partial files
  for (const [i, t] of rest.trees.entries())
    for (const p of t.keys()) {
      const name = p.split('/').pop() ?? p
      if (isTempName(name) || name.endsWith('.tmp') || name.includes('.skein-'))
        v.push(`(4) d${i} has a temp or partial file: ${p}`)
    }
  return v
}

/** A snapshot and the tree it was taken of. */
export interface Checkpoint {
  snapshot: string
  files: Tree
}

/** Where snapshots go: a provider and key prefix (default: a folder in the world's base). */
export type SnapshotStore = Pick<SnapshotStoreOptions, 'provider' | 'prefix'>

const worldStore = (world: ChaosWorld): SnapshotStore => ({
  provider: new FolderProvider(join(world.base, 'backups')),
})

/**
 * Takes a snapshot of `root` into the world's backup repository, or into `store`
 * (the folder is at rest). Throws what `backup` throws (a provider fault).
 */
export async function snapshotOf(
  world: ChaosWorld,
  root: string,
  store: SnapshotStore = worldStore(world),
): Promise<Checkpoint> {
  const files = filesOnly(readTree(root))
  const r = await backup({ ...store, source: root, label: `chaos:${root}` })
  return { snapshot: r.snapshot.id, files }
}

/**
 * (5) Restores `cp` (from the world's repository, or `store`) into a fresh folder
 * and compares it with what was snapshotted. Throws what `restore` throws.
 */
export async function checkRestore(
  world: ChaosWorld,
  cp: Checkpoint,
  store: SnapshotStore = worldStore(world),
): Promise<string[]> {
  const target = mkdtempSync(join(tmpdir(), 'skein-chaos-restore-'))
  rmSync(target, { recursive: true })
  try {
    await restore({ ...store, snapshot: cp.snapshot, target })
    return treeDiff(cp.files, filesOnly(readTree(target)), 'snapshotted', 'restored').map(
      (d) => `(5) ${d}`,
    )
  } finally {
    rmSync(target, { recursive: true, force: true })
  }
}
