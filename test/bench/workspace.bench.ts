/**
 * WorkspaceCrdt at 10,000 files (depth 4): create, encoded size, load, path-map
 * build, memory, and a rename of a folder holding 1,000 files (must be one write).
 */
import * as Y from 'yjs'
import type { ContentHash, DeviceId } from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'
import { defineScenarios, timeIt } from './harness.js'

const HASH = 'a'.repeat(64) as ContentHash
const device = 'bench' as DeviceId

/** 10 top folders × 10 × 10 × 10 files = 10,000 files at depth 4. */
function build(): { doc: Y.Doc; ws: WorkspaceCrdt } {
  const doc = new Y.Doc()
  const ws = new WorkspaceCrdt(doc, { device })
  for (let a = 0; a < 10; a++)
    for (let b = 0; b < 10; b++)
      for (let c = 0; c < 10; c++)
        for (let f = 0; f < 10; f++)
          ws.createFile(`top${a}/mid${b}/leaf${c}/note-${f}.md`, {
            kind: 'text',
            hash: HASH,
            size: 2048,
            mtime: 1_700_000_000_000,
          })
  return { doc, ws }
}

const gc = () => (globalThis as { gc?: () => void }).gc?.()

export default defineScenarios({
  name: 'workspace-10k',
  description: 'WorkspaceCrdt with 10,000 files at depth 4',
  async run(ctx) {
    const runs = ctx.full ? 5 : 3
    const create = await timeIt(runs, () => build(), 0)
    const { doc, ws } = build()
    const state = Y.encodeStateAsUpdate(doc)
    const load = await timeIt(runs, () => {
      const d = new Y.Doc()
      Y.applyUpdate(d, state)
      return new WorkspaceCrdt(d, { device })
    })
    const pathMap = await timeIt(runs * 3, () => ws.pathMap())
    gc()
    const heap0 = process.memoryUsage().heapUsed
    const kept: unknown[] = []
    for (let i = 0; i < 3; i++) {
      const d = new Y.Doc()
      Y.applyUpdate(d, state)
      kept.push(new WorkspaceCrdt(d, { device }))
    }
    gc()
    const perWorkspaceMB = (process.memoryUsage().heapUsed - heap0) / 3 / 2 ** 20
    kept.length = 0
    // Rename a folder holding 1,000 files: one update, tiny.
    const folder = ws.findByPath('top3')!
    const renameMs: number[] = []
    const renameBytes: number[] = []
    const renameWrites: number[] = []
    for (let i = 0; i < 20; i++) {
      let writes = 0
      const onUpdate = () => writes++
      doc.on('update', onUpdate)
      const sv = Y.encodeStateVector(doc)
      const t0 = performance.now()
      ws.rename(folder, `top3-r${i}`)
      renameMs.push(performance.now() - t0)
      doc.off('update', onUpdate)
      renameWrites.push(writes)
      renameBytes.push(Y.encodeStateAsUpdate(doc, sv).length)
    }
    if (renameWrites.some((w) => w !== 1))
      throw new Error(`a folder rename took ${renameWrites.join(',')} writes, expected 1`)
    const findMs = await timeIt(1000, () => ws.findByPath('top9/mid9/leaf9/note-9.md'))
    return {
      metrics: [
        { name: 'create 10k files', unit: 'ms', samples: create },
        { name: 'encoded state size', unit: 'bytes', samples: [state.length] },
        { name: 'load from encoded state', unit: 'ms', samples: load },
        { name: 'path map build', unit: 'ms', samples: pathMap },
        { name: 'heap per loaded workspace', unit: 'MB', samples: [perWorkspaceMB] },
        { name: 'rename folder of 1,000 files', unit: 'ms', samples: renameMs },
        { name: 'rename update size', unit: 'bytes', samples: renameBytes },
        { name: 'rename writes', unit: 'count', samples: renameWrites },
        { name: 'findByPath depth 4', unit: 'ms', samples: findMs },
      ],
      notes: [
        (globalThis as { gc?: unknown }).gc
          ? 'heap measured after gc()'
          : 'heap measured without --expose-gc (approximate)',
      ],
    }
  },
})
