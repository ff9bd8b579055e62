/**
 * Golden-scenario runner for SyncEngine, in the style of rclone bisync's tests:
 * each scenario folder has `initial/` (synced to both sides first), `steps.txt`
 * (a step script) and the expected result (`expected/` for both sides, or
 * `expected-local/` / `expected-remote/`, plus `assert-*` steps).
 */
import { cp, mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import { REMOTE_INDEX_KEY, SyncEngine, bytesStream, readAll } from '@skein/cloud'
import type { CloudSyncProvider, CloudSyncResult, SyncEngineOptions } from '@skein/cloud'
import { sha256HexSync } from '@skein/core/node'
import { createRng } from '@skein/core/testing'

/** Frozen run time, so conflict-copy names are exact: `20260102-030405`. */
export const GOLDEN_NOW = Date.UTC(2026, 0, 2, 3, 4, 5)

type Side = 'local' | 'remote'
type Tree = Map<string, Buffer>

/** Splits a step line into words; `"…"` words are JSON strings. */
function tokenize(line: string): string[] {
  const out: string[] = []
  const re = /"(?:[^"\\]|\\.)*"|\S+/g
  for (const m of line.matchAll(re))
    out.push(m[0].startsWith('"') ? (JSON.parse(m[0]) as string) : m[0])
  return out
}

/** Reads every synced file of a side (the `.skein/` state and provider metadata excluded). */
export async function readTree(
  side: Side,
  local: string,
  provider: CloudSyncProvider,
): Promise<Tree> {
  const tree: Tree = new Map()
  if (side === 'remote') {
    for await (const o of provider.list('')) {
      if (o.key.startsWith('.skein/')) continue
      const d = await provider.download(o.key)
      if (d) tree.set(o.key, await readAll(d.body))
    }
    return tree
  }
  const walk = async (rel: string) => {
    for (const e of await readdir(join(local, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (p === '.skein') continue
      if (e.isDirectory()) await walk(p)
      else tree.set(p.normalize('NFC'), await readFile(join(local, p)))
    }
  }
  await walk('')
  return tree
}

async function readDirTree(dir: string): Promise<Tree> {
  const tree: Tree = new Map()
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(p)
      else if (e.name !== '.gitkeep') tree.set(p.normalize('NFC'), await readFile(join(dir, p)))
    }
  }
  await walk('')
  return tree
}

const show = (t: Tree) =>
  Object.fromEntries(
    [...t]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [
        k,
        v.length > 200 ? `<${v.length} bytes ${sha256HexSync(v).slice(0, 8)}>` : v.toString('utf8'),
      ]),
  )
const exists = async (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  )

/** Runs one scenario folder against `provider`, with `local` an empty temp folder. */
export async function runScenario(
  dir: string,
  local: string,
  provider: CloudSyncProvider,
  base: Partial<SyncEngineOptions> = {},
): Promise<void> {
  const engine = (opts: Partial<SyncEngineOptions>) =>
    new SyncEngine({
      local,
      provider,
      clock: { now: () => GOLDEN_NOW },
      retry: { baseDelayMs: 1 },
      ...base,
      ...opts,
    })
  // Remote steps act like a foreign writer, which must drop the remote index (see SyncEngineOptions.useRemoteIndex).
  const dropIndex = () => provider.delete(REMOTE_INDEX_KEY)
  const put = async (side: Side, path: string, bytes: Buffer, mtime?: number) => {
    if (side === 'remote') {
      await provider.upload(path, bytesStream(bytes), {
        size: bytes.length,
        sha256: sha256HexSync(bytes),
        mtime: mtime ?? Date.now(),
      })
      return void (await dropIndex())
    }
    await mkdir(join(local, path, '..'), { recursive: true })
    await writeFile(join(local, path), bytes)
    if (mtime !== undefined) await utimes(join(local, path), new Date(mtime), new Date(mtime))
  }
  if (await exists(join(dir, 'initial'))) {
    await cp(join(dir, 'initial'), local, {
      recursive: true,
      filter: (s) => !s.endsWith('.gitkeep'),
    })
    const r = await engine({}).sync()
    expect(r.errors, 'initial sync').toEqual([])
  }
  const steps = (await readFile(join(dir, 'steps.txt'), 'utf8')).split('\n')
  let last: CloudSyncResult | undefined
  for (const [n, raw] of steps.entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [cmd, ...args] = tokenize(line)
    const at = `${dir.split('/').pop()}/steps.txt:${n + 1} ${line}`
    const kv = Object.fromEntries(
      args.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]),
    )
    const mtime = kv.mtime ? Date.parse(kv.mtime) : undefined
    const side = args[0] as Side
    switch (cmd) {
      case 'sync': {
        const opts: Partial<SyncEngineOptions> = {}
        if (kv.mode) opts.mode = kv.mode as SyncEngineOptions['mode']
        if (kv.keep) opts.keep = kv.keep as SyncEngineOptions['keep']
        if (kv.direction) opts.direction = kv.direction as SyncEngineOptions['direction']
        if (kv.compare) opts.compare = kv.compare.split(',') as SyncEngineOptions['compare']
        if (kv.autoMerge) opts.autoMerge = kv.autoMerge === 'true'
        if (kv.force) opts.force = kv.force === 'true'
        if (kv.index) opts.useRemoteIndex = kv.index === 'true'
        const want = kv.expect ?? 'ok'
        const got = await engine(opts)
          .sync({ dryRun: kv.dryRun === 'true' })
          .then(
            (r) => ({
              r,
              code: r.errors.length ? `errors:${r.errors.map((e) => e.code).join(',')}` : 'ok',
            }),
            (e: unknown) => ({ r: undefined, code: (e as { code?: string }).code ?? String(e) }),
          )
        expect(got.code, `${at}: ${JSON.stringify(got.r?.errors)}`).toBe(want)
        last = got.r
        for (const k of ['uploaded', 'downloaded', 'deleted'] as const) {
          if (kv[k] === undefined) continue
          const field = (
            {
              uploaded: 'filesUploaded',
              downloaded: 'filesDownloaded',
              deleted: 'filesDeleted',
            } as const
          )[k]
          expect(last?.[field], `${at}: ${k}`).toBe(Number(kv[k]))
        }
        if (kv.conflicts !== undefined)
          expect(
            last?.conflicts.length,
            `${at}: conflicts ${JSON.stringify(last?.conflicts)}`,
          ).toBe(Number(kv.conflicts))
        if (kv.resolution !== undefined)
          expect(last?.conflicts.map((c) => c.resolution).join(','), at).toBe(kv.resolution)
        break
      }
      case 'write':
        await put(side, args[1] as string, Buffer.from(args[2] as string), mtime)
        break
      case 'delete':
        if (side === 'remote') await provider.delete(args[1] as string).then(dropIndex)
        else await rm(join(local, args[1] as string))
        break
      case 'rename':
        if (side === 'local') {
          await mkdir(join(local, args[2] as string, '..'), { recursive: true })
          await rename(join(local, args[1] as string), join(local, args[2] as string))
        } else {
          const d = await provider.download(args[1] as string)
          await put('remote', args[2] as string, await readAll(d!.body), d!.info.mtime)
          await provider.delete(args[1] as string)
        }
        break
      case 'delete-all':
        for (const p of (await readTree(side, local, provider)).keys()) {
          if (side === 'remote') await provider.delete(p).then(dropIndex)
          else await rm(join(local, p))
        }
        break
      case 'generate': {
        const [, prefix, count, size] = args
        const rng = createRng(Number(count) * 31 + Number(size))
        for (let i = 0; i < Number(count); i += 50)
          await Promise.all(
            Array.from({ length: Math.min(50, Number(count) - i) }, (_, j) => {
              const b = Buffer.alloc(Number(size))
              for (let k = 0; k < b.length; k++) b[k] = 97 + rng.int(26)
              return put(side, `${prefix}/f${String(i + j).padStart(5, '0')}.txt`, b)
            }),
          )
        break
      }
      case 'big': {
        const b = Buffer.alloc(Number(args[2]) * 1024 * 1024)
        for (let i = 0; i + 4 <= b.length; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i)
        await put(side, args[1] as string, b)
        break
      }
      case 'assert-same': {
        const [l, r] = [
          await readTree('local', local, provider),
          await readTree('remote', local, provider),
        ]
        expect(show(l), at).toEqual(show(r))
        break
      }
      case 'assert-exists': {
        const t = await readTree(side, local, provider)
        expect(t.has(args[1] as string), `${at}: ${JSON.stringify([...t.keys()])}`).toBe(true)
        if (args[2] !== undefined) expect(t.get(args[1] as string)?.toString(), at).toBe(args[2])
        break
      }
      case 'assert-missing':
        expect((await readTree(side, local, provider)).has(args[1] as string), at).toBe(false)
        break
      case 'assert-count':
        expect((await readTree(side, local, provider)).size, at).toBe(Number(args[1]))
        break
      default:
        throw new Error(`${at}: unknown step ${cmd}`)
    }
  }
  for (const [name, sides] of [
    ['expected', ['local', 'remote']],
    ['expected-local', ['local']],
    ['expected-remote', ['remote']],
  ] as const) {
    if (!(await exists(join(dir, name)))) continue
    const want = show(await readDirTree(join(dir, name)))
    for (const s of sides)
      expect(
        show(await readTree(s, local, provider)),
        `${dir.split('/').pop()}: ${s} vs ${name}/`,
      ).toEqual(want)
  }
}
