/** A folder's content as path → node, and the differences between two of them. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sha256HexSync } from '@skein/core/node'

export interface TreeNode {
  kind: 'file' | 'dir'
  /** sha-256 of a file's bytes ('' for a folder). */
  hash: string
  bytes: Uint8Array
}

/** Workspace path (`/`-separated, NFC as on disk) → node. */
export type Tree = Map<string, TreeNode>

/** Reads every file and folder under `root`, except the agent's `.skein/` state. */
export function readTree(root: string): Tree {
  const out: Tree = new Map()
  const walk = (dir: string, prefix: string) => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return // vanished while walking: the next poll sees the settled state
    }
    for (const e of entries) {
      if (!prefix && e.name === '.skein') continue
      const rel = prefix ? `${prefix}/${e.name}` : e.name
      const abs = join(dir, e.name)
      if (e.isDirectory()) {
        out.set(rel, { kind: 'dir', hash: '', bytes: new Uint8Array() })
        walk(abs, rel)
      } else {
        try {
          const bytes = readFileSync(abs)
          out.set(rel, { kind: 'file', hash: sha256HexSync(bytes), bytes })
        } catch {
          /* vanished */
        }
      }
    }
  }
  walk(root, '')
  return out
}

/** The files of a tree (no folders), optionally leaving out paths under `exclude`. */
export function filesOnly(t: Tree, exclude?: string): Tree {
  return new Map(
    [...t].filter(([p, n]) => n.kind === 'file' && !(exclude && p.startsWith(exclude))),
  )
}

/** Human-readable differences between two trees (at most `limit` lines). */
export function treeDiff(a: Tree, b: Tree, la: string, lb: string, limit = 20): string[] {
  const out: string[] = []
  for (const [p, n] of a) {
    const m = b.get(p)
    if (!m) out.push(`${p}: in ${la}, missing in ${lb}`)
    else if (m.kind !== n.kind) out.push(`${p}: ${n.kind} in ${la}, ${m.kind} in ${lb}`)
    else if (m.hash !== n.hash)
      out.push(`${p}: differs (${la} ${preview(n.bytes)} | ${lb} ${preview(m.bytes)})`)
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`${p}: in ${lb}, missing in ${la}`)
  return out.length > limit ? [...out.slice(0, limit), `… ${out.length - limit} more`] : out
}

function preview(bytes: Uint8Array): string {
  const s = Buffer.from(bytes).toString('utf8')
  const flat = JSON.stringify(s.length > 60 ? `${s.slice(0, 28)}…${s.slice(-28)}` : s)
  return `${bytes.length}B ${flat}`
}
