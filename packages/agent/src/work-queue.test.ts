import { describe, expect, it } from 'vitest'
import type { FileId } from '@skein/core'
import { WorkQueue } from './work-queue.js'

describe('WorkQueue', () => {
  it('coalesces work, runs one pass at a time, and a full pass supersedes paths and ids', async () => {
    const calls: string[] = []
    let running = 0
    let maxRunning = 0
    const q = new WorkQueue((e) => {
      throw e
    })
    const step = (name: string) => async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      calls.push(name)
      await new Promise((r) => setTimeout(r, 5))
      running--
    }
    q.setHandlers({
      full: step('full'),
      paths: async (p) => step(`paths:${p.sort().join(',')}`)(),
      ids: async (ids) => step(`ids:${ids.join(',')}`)(),
      after: async () => {},
      paused: () => false,
    })
    q.touchPaths(['a', 'b'])
    q.touchPaths(['a'])
    q.touchId('x' as FileId)
    await q.idle()
    q.touchPaths(['c'])
    q.touchAll()
    q.touchId('y' as FileId)
    await q.idle()
    expect(calls).toEqual(['paths:a,b', 'ids:x', 'full'])
    expect(maxRunning).toBe(1)
    await q.close()
  })

  it('reports a failing pass and keeps going', async () => {
    const errors: unknown[] = []
    const q = new WorkQueue((e) => errors.push(e))
    const seen: string[] = []
    q.setHandlers({
      full: async () => {},
      paths: async (p) => {
        seen.push(...p)
        if (p.includes('bad')) throw new Error('boom')
      },
      ids: async () => {},
      after: async () => {},
      paused: () => false,
    })
    q.touchPaths(['bad'])
    await q.idle()
    q.touchPaths(['good'])
    await q.idle()
    expect(seen).toEqual(['bad', 'good'])
    expect(errors).toHaveLength(1)
    await q.close()
  })
})
