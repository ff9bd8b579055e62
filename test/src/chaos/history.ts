/**
 * Random histories for the chaos world: file operations done the way users and
 * editors do them, on the devices' real folders, interleaved with faults. Every
 * edit writes a unique token; the ledger records which tokens were written and
 * which a later operation deliberately removed (a token that device could see).
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import type { Rng } from '@skein/core/testing'
import { isTempName } from '@skein/agent'
import { readTree } from './tree.js'
import type { ChaosWorld } from './world.js'

const TOKEN_RE = /\{T\d{6}-[a-z]{6}\}/g

/** Every token in some bytes. */
export function tokensIn(bytes: Uint8Array): string[] {
  return Buffer.from(bytes).toString('latin1').match(TOKEN_RE) ?? []
}

/** Tokens written and tokens deliberately removed. */
export class Ledger {
  private n = 0
  /** token → the op that wrote it. */
  readonly written = new Map<string, string>()
  readonly removed = new Set<string>()

  next(op: string): string {
    const n = ++this.n
    // Distinct lines, as people write them: no two tokens share more than their frame.
    let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) >>> 0
    let tag = ''
    for (let i = 0; i < 6; i++) {
      tag += String.fromCharCode(97 + (h % 26))
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
    }
    const t = `{T${String(n).padStart(6, '0')}-${tag}}`
    this.written.set(t, op)
    return t
  }

  /** Folders the history deleted (path → the op), with nothing under them touched since. */
  readonly deletedFolders = new Map<string, string>()

  /**
   * An operation used these paths: a deleted folder at, above or below one of
   * them may rightly exist again (or moved), so it is no longer checked.
   */
  touched(...paths: string[]): void {
    for (const d of [...this.deletedFolders.keys()])
      if (paths.some((p) => p === d || p.startsWith(`${d}/`) || d.startsWith(`${p}/`)))
        this.deletedFolders.delete(d)
  }

  /** Marks as removed the tokens of `before` that `after` no longer holds. */
  removedBetween(before: Uint8Array | undefined, after: Uint8Array | undefined): void {
    if (!before) return
    const kept = new Set(after ? tokensIn(after) : [])
    for (const t of tokensIn(before)) if (!kept.has(t)) this.removed.add(t)
  }
}

/** Kinds of operations and faults, with their weights. */
export const OP_WEIGHTS = {
  create: 12,
  append: 14,
  insert: 12,
  rewrite: 3,
  truncate: 3,
  editorSave: 6,
  rename: 4,
  move: 4,
  delete: 3,
  renameFolder: 2,
  deleteFolder: 1,
  binary: 3,
  flip: 1,
  pause: 6,
  offline: 4,
  online: 4,
  dropLink: 2,
  restartAgent: 2,
  killAgent: 2,
  killServer: 1,
} as const
export type OpKind = keyof typeof OP_WEIGHTS

const NAMES = ['a.md', 'b.md', 'todo.md', 'Ideas.md', 'log.txt', 'ünï.md', 'x y.md', 'n1.md']
const FOLDERS = ['', '', 'notes', 'notes/deep', 'journal', 'Projects']

export interface HistoryOptions {
  /** Operation kinds to leave out (e.g. server kills in a focused test). */
  exclude?: OpKind[]
}

/** Drives one random history over a world. */
export class History {
  readonly ledger = new Ledger()
  readonly counts = new Map<string, number>()
  private step = 0
  private readonly kinds: [OpKind, number][]
  private readonly total: number

  constructor(
    private readonly world: ChaosWorld,
    private readonly rng: Rng,
    opts: HistoryOptions = {},
  ) {
    this.kinds = (Object.entries(OP_WEIGHTS) as [OpKind, number][]).filter(
      ([k]) => !opts.exclude?.includes(k),
    )
    this.total = this.kinds.reduce((s, [, w]) => s + w, 0)
  }

  /** Runs `n` random operations. */
  async run(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.one(this.pickKind())
  }

  /** Runs one operation of `kind` on a random device (or a chosen one). */
  async one(kind: OpKind, device = this.rng.int(this.world.devices.length)): Promise<void> {
    const id = `#${++this.step} ${kind} d${device}`
    const note = (detail: string) => {
      this.world.note(`${id} ${detail}`)
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1)
    }
    const root = this.world.devices[device]?.root
    if (!root) throw new Error(`no device ${device}`)
    // Users edit notes, not the agent's in-flight temp files (`.skein-*.tmp`).
    const userFiles = () =>
      [...readTree(root)].filter(
        ([p, n]) => n.kind === 'file' && !isTempName(p.split('/').pop() ?? p),
      )
    const files = () => userFiles().map(([p]) => p)
    const textFiles = () =>
      userFiles()
        .filter(([, n]) => !isBinary(n.bytes))
        .map(([p]) => p)
    const dirs = () => [...readTree(root)].filter(([, n]) => n.kind === 'dir').map(([p]) => p)
    const pick = <T>(xs: T[]): T | undefined =>
      xs.length ? xs[this.rng.int(xs.length)] : undefined
    const read = (p: string) => readOrUndefined(join(root, p))

    switch (kind) {
      case 'create': {
        const folder = pick(FOLDERS) ?? ''
        const path = folder ? `${folder}/${pick(NAMES)}` : (pick(NAMES) ?? 'a.md')
        if (blockedByFile(root, path)) return note(`skip ${path} (a file is in the way)`)
        const token = this.ledger.next(id)
        const before = read(path)
        this.ledger.touched(path)
        put(root, path, Buffer.concat([before ?? Buffer.from(''), Buffer.from(`${token}\n`)]))
        return note(`${before ? 'append-create' : 'create'} ${path} ${token}`)
      }
      case 'append':
      case 'insert':
      case 'editorSave':
      case 'rewrite':
      case 'truncate': {
        const path = pick(textFiles())
        if (!path) return this.one('create', device)
        const before = read(path)
        if (!before) return note(`skip ${path} (vanished)`)
        this.ledger.touched(path)
        const lines = before.toString('utf8').split(/(?<=\n)/)
        const token = this.ledger.next(id)
        let text: string
        if (kind === 'append') text = before.toString('utf8') + `${token}\n`
        else if (kind === 'insert') {
          const at = this.rng.int(lines.length + 1)
          text = [...lines.slice(0, at), `${token}\n`, ...lines.slice(at)].join('')
        } else if (kind === 'rewrite') text = `rewritten ${token}\n`
        else if (kind === 'truncate')
          text = lines.slice(0, Math.floor(lines.length / 2)).join('') + `${token}\n`
        else text = before.toString('utf8') + `saved ${token}\n`
        const after = Buffer.from(text)
        if (kind === 'editorSave') {
          // Editor style: write a temp file beside it, then rename over the note.
          const tmp = join(root, `${path}.${this.rng.int(1e6)}.tmp`)
          writeFileSync(tmp, after)
          renameSync(tmp, join(root, path))
        } else if (kind === 'truncate' && this.rng.chance(0.5)) {
          // Truncate, then write: the watcher may see the empty file first.
          writeFileSync(join(root, path), '')
          writeFileSync(join(root, path), after)
        } else put(root, path, after)
        this.ledger.removedBetween(before, after)
        return note(`${path} ${token}`)
      }
      case 'rename':
      case 'move': {
        const path = pick(files())
        if (!path) return note('skip (no files)')
        const name = path.split('/').pop() ?? path
        const folder =
          kind === 'rename' ? (path.includes('/') ? dirname(path) : '') : (pick(FOLDERS) ?? '')
        const newName = kind === 'rename' ? `r${this.rng.int(100)}-${name}` : name
        const to = folder ? `${folder}/${newName}` : newName
        // A name at the 255-byte limit (hostile-input scenarios) cannot grow by a prefix.
        if (
          to === path ||
          Buffer.byteLength(newName) > 255 ||
          existsSync(join(root, to)) ||
          blockedByFile(root, to)
        )
          return note(`skip ${path} → ${to}`)
        this.ledger.touched(path, to)
        mkdirSync(dirname(join(root, to)), { recursive: true })
        renameSync(join(root, path), join(root, to))
        return note(`${path} → ${to}`)
      }
      case 'delete': {
        const path = pick(files())
        if (!path) return note('skip (no files)')
        const before = read(path)
        this.ledger.touched(path)
        rmSync(join(root, path), { force: true })
        this.ledger.removedBetween(before, undefined)
        return note(path)
      }
      case 'renameFolder': {
        const dir = pick(dirs())
        if (!dir) return note('skip (no folders)')
        const to = `${dir}-r${this.rng.int(100)}`
        if (existsSync(join(root, to)) || Buffer.byteLength(to.split('/').pop() ?? to) > 255)
          return note(`skip ${dir}`)
        this.ledger.touched(dir, to)
        renameSync(join(root, dir), join(root, to))
        return note(`${dir} → ${to}`)
      }
      case 'deleteFolder': {
        const dir = pick(dirs())
        if (!dir) return note('skip (no folders)')
        const tree = readTree(join(root, dir))
        for (const n of tree.values()) this.ledger.removedBetween(n.bytes, undefined)
        rmSync(join(root, dir), { recursive: true, force: true })
        this.ledger.touched(dir)
        this.ledger.deletedFolders.set(dir, id)
        return note(`${dir} (${tree.size} entries)`)
      }
      case 'binary': {
        const existing = pick(files().filter((p) => p.endsWith('.bin')))
        const path =
          existing && this.rng.chance(0.5)
            ? existing
            : `${pick(FOLDERS) ?? ''}/img${this.rng.int(4)}.bin`.replace(/^\//, '')
        if (blockedByFile(root, path)) return note(`skip ${path}`)
        const before = read(path)
        this.ledger.touched(path)
        const token = this.ledger.next(id)
        const noise = Buffer.from(
          Array.from({ length: 64 + this.rng.int(3000) }, () => this.rng.int(256)),
        )
        const after = Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(token), noise])
        put(root, path, after)
        this.ledger.removedBetween(before, after)
        return note(`${path} ${after.length}B ${token}`)
      }
      case 'flip': {
        const path = pick(files().filter((p) => !p.endsWith('.bin')))
        if (!path) return note('skip (no files)')
        const before = read(path)
        if (!before) return note('skip (vanished)')
        this.ledger.touched(path)
        const token = this.ledger.next(id)
        // Text → binary keeps the text and adds a NUL; binary → text keeps the tokens as lines.
        const after = isBinary(before)
          ? Buffer.from(
              tokensIn(before)
                .map((t) => `${t}\n`)
                .join('') + `${token}\n`,
            )
          : Buffer.concat([before, Buffer.from([0]), Buffer.from(`${token}\n`)])
        put(root, path, after)
        return note(`${path} → ${isBinary(after) ? 'binary' : 'text'} ${token}`)
      }
      case 'pause': {
        const ms = 100 + this.rng.int(1200)
        await sleep(ms)
        return note(`${ms} ms`)
      }
      case 'offline': {
        this.world.devices[device]?.proxy.setMode('down')
        return note('link down')
      }
      case 'online': {
        this.world.devices[device]?.proxy.setMode('up')
        return note('link up')
      }
      case 'dropLink': {
        this.world.devices[device]?.proxy.dropAll()
        return note('connections dropped')
      }
      case 'restartAgent': {
        await this.world.stopDevice(device)
        await this.world.startDevice(device)
        return note('agent restarted')
      }
      case 'killAgent': {
        if (!this.world.running(device)) {
          await this.world.startDevice(device)
          return note('agent was down; started')
        }
        // A burst of local edits, then SIGKILL mid-burst.
        for (let i = 0; i < 3; i++) await this.one('append', device)
        await sleep(this.rng.int(80))
        await this.world.killDevice(device)
        if (this.rng.chance(0.5)) await this.world.startDevice(device)
        return note('agent SIGKILLed mid-burst')
      }
      case 'killServer': {
        await this.world.stopServer('SIGKILL')
        await sleep(this.rng.int(800))
        await this.world.startServer()
        return note('server SIGKILLed and restarted')
      }
    }
  }

  private pickKind(): OpKind {
    let r = this.rng.int(this.total)
    for (const [k, w] of this.kinds) {
      if (r < w) return k
      r -= w
    }
    return 'append'
  }
}

export function put(root: string, path: string, data: Uint8Array): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), data)
}

function readOrUndefined(abs: string): Buffer | undefined {
  try {
    return readFileSync(abs)
  } catch {
    return undefined
  }
}

function isBinary(b: Uint8Array): boolean {
  return b.includes(0)
}

/** True when some prefix of `path` is an existing file (a folder cannot be made there). */
function blockedByFile(root: string, path: string): boolean {
  const parts = path.split('/')
  for (let i = 1; i <= parts.length; i++) {
    const abs = join(root, ...parts.slice(0, i))
    try {
      const st = statSync(abs)
      if (i < parts.length && !st.isDirectory()) return true
      if (i === parts.length && st.isDirectory()) return true
    } catch {
      return false
    }
  }
  return false
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
