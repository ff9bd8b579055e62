import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createIgnoreMatcher } from './ignore-rules.js'
import { NativeWatcher } from './native-watcher.js'
import { ChokidarWatcher } from './chokidar-watcher.js'
import { tempName } from './names.js'
import type { FolderWatcher } from './watcher-types.js'

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const impls: [string, (root: string) => FolderWatcher][] = [
  ['NativeWatcher', (root) => new NativeWatcher(root, createIgnoreMatcher(), { debounceMs: 10 })],
  [
    'ChokidarWatcher',
    (root) => new ChokidarWatcher(root, createIgnoreMatcher(), { debounceMs: 10 }),
  ],
]

describe.each(impls)('%s', (_name, make) => {
  const dirs: string[] = []
  const watchers: FolderWatcher[] = []
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.close()))
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
  })

  const start = async () => {
    const root = mkdtempSync(join(tmpdir(), 'skein-watch-'))
    dirs.push(root)
    mkdirSync(join(root, 'a'))
    writeFileSync(join(root, 'a/old.md'), 'x')
    const w = make(root)
    watchers.push(w)
    const seen = new Set<string>()
    w.onChanges((paths) => paths.forEach((p) => seen.add(p)))
    await w.start()
    return { root, seen }
  }

  it('reports creates, edits, deletes and new folders with their files', async () => {
    const { root, seen } = await start()
    writeFileSync(join(root, 'top.md'), 'new')
    writeFileSync(join(root, 'a/old.md'), 'edited')
    await until('top.md and a/old.md', () => seen.has('top.md') && seen.has('a/old.md'))
    mkdirSync(join(root, 'b/c'), { recursive: true })
    writeFileSync(join(root, 'b/c/deep.md'), 'deep')
    await until('b/c/deep.md', () => seen.has('b/c/deep.md'))
    seen.clear()
    writeFileSync(join(root, 'b/c/deep.md'), 'deeper')
    await until('edit in a new folder', () => seen.has('b/c/deep.md'))
    rmSync(join(root, 'top.md'))
    renameSync(join(root, 'a'), join(root, 'z'))
    await until('delete and folder rename', () => seen.has('top.md') && seen.has('z'))
  })

  it('never reports ignored paths or the agent temp files', async () => {
    const { root, seen } = await start()
    mkdirSync(join(root, 'node_modules'))
    writeFileSync(join(root, 'node_modules/x.js'), 'x')
    writeFileSync(join(root, 'a/.n.md.swp'), 'x')
    writeFileSync(join(root, 'a', tempName()), 'x')
    writeFileSync(join(root, 'marker.md'), 'x')
    await until('marker.md', () => seen.has('marker.md'))
    expect([...seen].filter((p) => p !== 'marker.md' && p !== 'a')).toEqual([])
  })
})
