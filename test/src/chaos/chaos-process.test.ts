/**
 * Process faults from the chaos catalogue, each against the oracle: SIGKILL of
 * an agent during disk writes, during a folder rename and during its initial
 * scan; SIGKILL of the server while it persists; SIGKILL of `skein backup` and
 * `skein cloud sync` mid-run. Plus power loss: a note truncated to 0 bytes with
 * its old mtime (what a crash before fsync leaves).
 */
import {
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FOLDER_PROVIDER_DIR } from '@skein/cloud'
import { runSkein, spawnSkein, waitFor } from '../helpers/cli.js'
import { put, sleep } from './history.js'
import { runScenario, summary, type ScenarioContext } from './run.js'
import { filesOnly, readTree, treeDiff } from './tree.js'

const T = 240_000

/** Writes `n` notes with one token each under `dir` on device `i`. */
function burst(c: ScenarioContext, i: number, dir: string, n: number, pad = 0): void {
  const root = c.world.devices[i]?.root as string
  for (let k = 0; k < n; k++) {
    const token = c.history.ledger.next(`burst ${dir}/n${k}.md on d${i}`)
    put(root, `${dir}/n${k}.md`, Buffer.from(`${token}\n${'x'.repeat(pad)}\n`))
  }
  c.world.note(`burst of ${n} notes into ${dir}/ on d${i}`)
}

const countFiles = (root: string, dir: string) => {
  try {
    return readdirSync(join(root, dir)).length
  } catch {
    return 0
  }
}

describe('chaos: process faults', () => {
  it('agent SIGKILLed while writing a burst of remote files', { timeout: T }, async () => {
    const r = await runScenario('SIGKILL agent during disk writes', { devices: 2 }, async (c) => {
      const { world, rng } = c
      burst(c, 0, 'burst', 120, 2000)
      await waitFor(
        'the burst reaching d1',
        () => countFiles(world.devices[1]?.root ?? '', 'burst') > 5,
        60_000,
      )
      await sleep(rng.int(200))
      await world.killDevice(1)
      world.note('d1 SIGKILLed mid-burst')
      for (let n = 0; n < 6; n++) await c.history.one('append', n % 2)
    })
    console.log(summary(r))
    expect(r.violations).toEqual([])
  })

  it('agent SIGKILLed while applying a remote folder rename', { timeout: T }, async () => {
    const r = await runScenario('SIGKILL agent during a rename', { devices: 2 }, async (c) => {
      const { world, rng } = c
      burst(c, 0, 'big', 150)
      const d1 = world.devices[1]?.root ?? ''
      await waitFor('big/ on d1', () => countFiles(d1, 'big') === 150, 60_000)
      renameSync(
        join(world.devices[0]?.root ?? '', 'big'),
        join(world.devices[0]?.root ?? '', 'big2'),
      )
      world.note('d0 renamed big → big2')
      await waitFor(
        'the rename starting on d1',
        () => countFiles(d1, 'big2') > 0 || countFiles(d1, 'big') < 150,
        30_000,
      ).catch(() => undefined)
      await sleep(rng.int(30))
      await world.killDevice(1)
      world.note('d1 SIGKILLed during the rename')
      await c.history.one('append', 0)
    })
    console.log(summary(r))
    expect(r.violations).toEqual([])
  })

  it('agent SIGKILLed during its initial scan of 1,000 files', { timeout: T }, async () => {
    const r = await runScenario('SIGKILL agent during initial scan', { devices: 2 }, async (c) => {
      const { world, rng } = c
      await world.stopDevice(1)
      burst(c, 1, 'scan', 1000)
      await c.history.one('create', 0)
      await world.startDevice(1, { waitReady: false })
      await sleep(150 + rng.int(600))
      await world.killDevice(1)
      world.note('d1 SIGKILLed during its initial scan')
    })
    console.log(summary(r))
    expect(r.violations).toEqual([])
  })

  it('server SIGKILLed while persisting a stream of edits', { timeout: T }, async () => {
    const r = await runScenario('SIGKILL server during persistence', {}, async (c) => {
      const { world, history, rng } = c
      for (let n = 0; n < 30; n++) {
        await history.one(rng.chance(0.3) ? 'create' : 'append', rng.int(3))
        if (n === 12) {
          await world.stopServer('SIGKILL')
          world.note('server SIGKILLed')
        }
        if (n === 20) {
          await world.startServer()
          world.note('server restarted on the same data')
        }
      }
    })
    console.log(summary(r))
    expect(r.violations).toEqual([])
  })

  it(
    'skein backup and skein cloud sync SIGKILLed mid-run, then rerun',
    { timeout: T },
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'skein-chaos-cloud-'))
      try {
        const r = await runScenario('SIGKILL backup and cloud sync', { devices: 2 }, async (c) => {
          const { world, rng } = c
          burst(c, 0, 'bulk', 400, 20_000)
          const rest = await world.quiesce()
          if (!rest.converged)
            throw new Error(`no rest before the backup: ${rest.problems.join('; ')}`)
          const src = world.devices[0]?.root ?? ''
          const expected = filesOnly(readTree(src), FOLDER_PROVIDER_DIR)
          for (const [what, args] of [
            ['backup', ['backup', src, join(out, 'repo')]],
            ['cloud sync', ['cloud', 'sync', src, join(out, 'mirror')]],
          ] as const) {
            const run = spawnSkein([...args])
            await sleep(400 + rng.int(800))
            run.child.kill('SIGKILL')
            const killed = await run.exited
            world.note(`${what} SIGKILLed (exit ${String(killed.code)})`)
            const again = await runSkein([...args])
            if (again.code !== 0) throw new Error(`${what} rerun failed: ${again.stderr}`)
          }
          const restored = join(out, 'restored')
          const res = await runSkein(['restore', join(out, 'repo'), restored])
          if (res.code !== 0) throw new Error(`restore failed: ${res.stderr}`)
          const v = [
            ...treeDiff(
              expected,
              filesOnly(readTree(restored), FOLDER_PROVIDER_DIR),
              'folder',
              'restored',
            ).map((d) => `(5) backup: ${d}`),
            ...treeDiff(
              expected,
              filesOnly(readTree(join(out, 'mirror')), FOLDER_PROVIDER_DIR),
              'folder',
              'mirror',
            ).map((d) => `cloud sync: ${d}`),
          ]
          if (v.length) throw new Error(v.join('\n'))
          world.note(`backup, cloud sync and restore of ${expected.size} files verified`)
        })
        console.log(summary(r))
        expect(r.violations).toEqual([])
      } finally {
        rmSync(out, { recursive: true, force: true })
      }
    },
  )

  it(
    'power loss: a note truncated to 0 bytes with its old mtime does not wipe it everywhere',
    { timeout: T },
    async () => {
      const r = await runScenario('power loss truncation', { devices: 2 }, async (c) => {
        const { world } = c
        await c.history.one('create', 0)
        await c.history.one('append', 0)
        const rest = await world.quiesce()
        if (!rest.converged) throw new Error('no rest before the power loss')
        const d1 = world.devices[1]?.root ?? ''
        const [path] = [...readTree(d1)].find(([, n]) => n.kind === 'file') ?? []
        if (!path) throw new Error('no note to truncate')
        const abs = join(d1, path)
        const st = statSync(abs)
        await world.killDevice(1)
        truncateSync(abs, 0)
        utimesSync(abs, st.atime, st.mtime)
        world.note(`d1 lost power: ${path} is 0 bytes with its old mtime`)
        await world.startDevice(1)
        // Where the content is: restored in place from the workspace, and reported.
        await waitFor('the note restored on d1', () => statSync(abs).size > 0, 30_000)
        const report = await world.report(1)
        if (!report.issues.some((i) => i.path === path && i.message.includes('became empty')))
          throw new Error(`no power-loss report on d1: ${JSON.stringify(report.issues)}`)
        world.note(`d1 restored ${path} from the workspace and reported it`)
      })
      console.log(summary(r))
      expect(r.violations).toEqual([])
    },
  )
})
