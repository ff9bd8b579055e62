/**
 * Network faults from the chaos catalogue, each against the oracle: server
 * unreachable at start, a drop mid-sync, a drop between update and ack, a
 * reconnect storm of 20 clients, and a half-open socket.
 */
import * as Y from 'yjs'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { SyncClient } from '@skein/client'
import type { DocHandle, WebSocketConstructor } from '@skein/client'
import type { DeviceId, FileId } from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'
import { waitFor } from '../helpers/cli.js'
import { FaultProxy } from './fault-proxy.js'
import { sleep } from './history.js'
import { runScenario, summary } from './run.js'

const T = 240_000

describe('chaos: network faults', () => {
  it(
    'server unreachable at start: devices work offline, then converge',
    { timeout: T },
    async () => {
      const r = await runScenario(
        'server unreachable at start',
        { startServer: false },
        async (c) => {
          const { world, history } = c
          for (let i = 0; i < 3; i++) await history.one('create', i)
          for (let i = 0; i < 3; i++) await world.startDevice(i)
          for (let n = 0; n < 12; n++) await history.one(n % 3 === 0 ? 'create' : 'append', n % 3)
          await world.startServer()
          for (let n = 0; n < 6; n++) await history.one('append', n % 3)
        },
      )
      console.log(summary(r))
      expect(r.violations).toEqual([])
    },
  )

  it('connection dropped again and again mid-sync', { timeout: T }, async () => {
    const r = await runScenario('drop mid-sync', {}, async ({ world, history, rng }) => {
      for (let n = 0; n < 40; n++) {
        await history.one(rng.chance(0.3) ? 'create' : 'append', 0)
        if (n % 5 === 0) for (const d of world.devices) d.proxy.dropAll()
        if (n % 7 === 0) await sleep(rng.int(150))
      }
    })
    console.log(summary(r))
    expect(r.violations).toEqual([])
  })

  it(
    'link cut after an update reached the server, before its ack came back',
    { timeout: T },
    async () => {
      const r = await runScenario('drop between update and ack', { devices: 2 }, async (c) => {
        const { world, history } = c
        await history.one('create', 0)
        await sleep(500)
        for (let n = 0; n < 8; n++) {
          world.devices[n % 2]?.proxy.cutAfterNextClientData()
          await history.one('append', n % 2)
          await sleep(300)
        }
      })
      console.log(summary(r))
      expect(r.violations).toEqual([])
    },
  )

  it(
    'reconnect storm: 3 agents and 17 editors reconnect at once, edits keep flowing',
    { timeout: T },
    async () => {
      const editors: { client: SyncClient; docs: Y.Doc[]; handles: DocHandle[] }[] = []
      let storm: FaultProxy | undefined
      try {
        const r = await runScenario('reconnect storm', {}, async ({ world, history, rng }) => {
          await history.one('create', 0)
          const note = await waitFor('a note on the server', async () =>
            [...(await world.readCrdt()).keys()].find((p) => /\.(md|txt)$/.test(p)),
          )
          storm = new FaultProxy(Number(new URL(world.serverUrl).port))
          await storm.listen()
          for (let e = 0; e < 17; e++) {
            const client = new SyncClient({
              url: storm.url,
              WebSocket: WebSocket as unknown as WebSocketConstructor,
              initialBackoffMs: 20,
              maxBackoffMs: 300,
            })
            const wsDoc = new Y.Doc()
            const h = client.open(world.workspace, wsDoc)
            await h.whenSynced
            const ws = new WorkspaceCrdt(wsDoc, { device: `editor${e}` as DeviceId })
            const id = ws.findByPath(note) as FileId
            const body = new Y.Doc()
            const bh = client.open(`${world.workspace}/${id}`, body)
            await bh.whenSynced
            editors.push({ client, docs: [wsDoc, body], handles: [h, bh] })
          }
          const type = (n: number) => {
            const ed = editors[rng.int(editors.length)]
            const text = ed?.docs[1]?.getText('body')
            if (!text) return
            text.insert(text.length, `${history.ledger.next(`editor insert ${n}`)}\n`)
          }
          for (let n = 0; n < 10; n++) type(n)
          await sleep(300)
          world.note('storm: every link dropped at once')
          storm.dropAll()
          for (const d of world.devices) d.proxy.dropAll()
          for (let n = 10; n < 30; n++) {
            type(n)
            if (n % 4 === 0) await history.one('append', rng.int(3))
          }
          await waitFor(
            'editors saved',
            () => editors.every((ed) => ed.handles.every((h) => h.unsyncedChanges === 0)),
            60_000,
          )
          world.note(`storm proxy accepted ${storm.accepted} connections`)
        })
        console.log(summary(r))
        expect(r.violations).toEqual([])
        expect(storm?.accepted).toBeGreaterThanOrEqual(34) // 17 connected twice
      } finally {
        for (const ed of editors) {
          ed.client.close()
          for (const d of ed.docs) d.destroy()
        }
        await storm?.close()
      }
    },
  )

  it(
    'half-open socket: a silent link is noticed and replaced, nothing lost',
    { timeout: T },
    async () => {
      const r = await runScenario(
        'half-open socket',
        { devices: 2 },
        async ({ world, history }) => {
          await history.one('create', 0)
          await sleep(800)
          world.devices[1]?.proxy.setMode('blackhole')
          world.note('d1 link blackholed')
          for (let n = 0; n < 6; n++) await history.one('append', n % 2)
          await sleep(1500)
          world.devices[1]?.proxy.setMode('up')
          world.note('d1 link up (the old socket stays silent)')
          for (let n = 0; n < 4; n++) await history.one('append', n % 2)
        },
      )
      console.log(summary(r))
      expect(r.violations).toEqual([])
    },
  )
})
