/** The browser editor in a real Chromium: co-editing, offline editing, read-only tokens. */
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { SyncClient, type WebSocketConstructor } from '@skein/client'
import { asDeviceId } from '@skein/core'
import { SyncServer, signToken } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { WorkspaceCrdt } from '@skein/workspace'
import { REPO } from './helpers/cli.js'
import {
  createNoteViaUi,
  editorText,
  openNote,
  startWebStack,
  statusOf,
  treeItem,
  type WebStack,
} from './helpers/web-harness.js'

const POLL = { timeout: 15_000, interval: 100 }

function nodeClient(url: string, token?: string): SyncClient {
  return new SyncClient({
    url,
    token,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    initialBackoffMs: 50,
    maxBackoffMs: 500,
  })
}

describe('web editor: two pages co-edit a note', () => {
  let stack: WebStack
  beforeAll(async () => {
    stack = await startWebStack()
  })
  afterAll(async () => stack?.close())

  it('typing in one page appears in the other, and each shows the other’s named cursor', async () => {
    const a = await (await stack.newDevice()).newPage()
    const b = await (await stack.newDevice()).newPage()
    await a.goto(stack.pageUrl('team', { device: 'Alice' }))
    await b.goto(stack.pageUrl('team', { device: 'Bob' }))
    await createNoteViaUi(a, 'shared.md')
    await expect.poll(() => treeItem(b, 'shared.md').count(), POLL).toBe(1)
    await openNote(b, 'shared.md')

    await a.locator('.cm-content').click()
    await a.keyboard.type('Hello from Alice')
    await expect.poll(() => editorText(b), POLL).toBe('Hello from Alice')

    await b.locator('.cm-content').click()
    await b.keyboard.press('End')
    await b.keyboard.type(' and Bob')
    await expect.poll(() => editorText(a), POLL).toBe('Hello from Alice and Bob')

    // remote carets carry the other device's name
    await expect
      .poll(() => a.locator('.cm-ySelectionInfo').allTextContents(), POLL)
      .toContain('Bob')
    await expect
      .poll(() => b.locator('.cm-ySelectionInfo').allTextContents(), POLL)
      .toContain('Alice')
    await expect.poll(() => statusOf(a).textContent(), POLL).toBe('All changes saved')

    await mkdir(join(REPO, 'test', 'artifacts'), { recursive: true })
    await a.screenshot({ path: join(REPO, 'test', 'artifacts', 'web-two-cursors.png') })
  })
})

describe('web editor: offline edits merge on reconnect', () => {
  let stack: WebStack
  let dbDir: string
  beforeAll(async () => {
    dbDir = join(await mkdtemp(join(tmpdir(), 'skein-web-offline-')), 'db')
    stack = await startWebStack({ store: new LevelDocStore(dbDir) })
  })
  afterAll(async () => stack?.close())

  it('server stopped → page and another device edit → server back → both merged, "All changes saved"', async () => {
    const page = await (await stack.newDevice()).newPage()
    await page.goto(stack.pageUrl('offline'))
    await createNoteViaUi(page, 'trip.md')
    await page.locator('.cm-content').click()
    await page.keyboard.type('packing list')
    await expect.poll(() => statusOf(page).textContent(), POLL).toBe('All changes saved')

    // another device holds the same note
    const ws = new Y.Doc()
    const peer = nodeClient(stack.sync.url)
    await peer.open('offline', ws).whenSynced
    const crdt = new WorkspaceCrdt(ws, { device: asDeviceId('peer') })
    const id = crdt.findByPath('trip.md')
    expect(id).toBeDefined()
    const body = new Y.Doc()
    await peer.open(`offline/${id}`, body).whenSynced
    expect(body.getText('body').toJSON()).toBe('packing list')

    const port = stack.sync.port
    await stack.sync.close()
    await expect.poll(() => statusOf(page).getAttribute('data-state'), POLL).toBe('offline')

    await page.keyboard.press('End')
    await page.keyboard.type(': boots')
    body.getText('body').insert(0, 'TODO ')
    await expect.poll(() => statusOf(page).getAttribute('data-unsynced'), POLL).not.toBe('0')
    // Between reconnect attempts the page says Offline (during one, Connecting…).
    await expect
      .poll(() => statusOf(page).textContent(), POLL)
      .toMatch(/^Offline — edits are kept on this device \([1-9]\d* unsynced changes?\)$/)

    stack.sync = new SyncServer({ port, store: new LevelDocStore(dbDir) })
    await stack.sync.listen()

    await expect.poll(() => editorText(page), POLL).toBe('TODO packing list: boots')
    await expect.poll(() => body.getText('body').toJSON(), POLL).toBe('TODO packing list: boots')
    await expect.poll(() => statusOf(page).textContent(), POLL).toBe('All changes saved')
    peer.close()
  })
})

describe('web editor: read-only token', () => {
  const secret = 'web-test-secret-0123456789'
  let stack: WebStack
  beforeAll(async () => {
    stack = await startWebStack({ auth: { mode: 'token', secret } })
  })
  afterAll(async () => stack?.close())

  it('typing does nothing and the page says why', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600
    const write = await signToken(secret, { workspace: 'ro', scope: 'write', exp })
    const read = await signToken(secret, { workspace: 'ro', scope: 'read', exp })
    const writer = nodeClient(stack.sync.url, write)
    const ws = new Y.Doc()
    await writer.open('ro', ws).whenSynced
    const crdt = new WorkspaceCrdt(ws, { device: asDeviceId('writer') })
    const id = crdt.createFile('notes/read-me.md', {
      kind: 'text',
      hash: undefined,
      size: 0,
      mtime: Date.now(),
    })
    const body = new Y.Doc()
    const bh = writer.open(`ro/${id}`, body)
    body.transact(() => {
      body.getMap('meta').set('gen', 1)
      body.getText('body').insert(0, 'Do not change me')
    })
    await bh.whenSynced

    const page = await (await stack.newDevice()).newPage()
    await page.goto(stack.pageUrl('ro', { token: read }))
    expect(page.url()).not.toContain('token=')
    await expect.poll(() => treeItem(page, 'notes').count(), POLL).toBe(1)
    await treeItem(page, 'notes').click()
    await openNote(page, 'notes/read-me.md')
    await expect.poll(() => editorText(page), POLL).toBe('Do not change me')
    await page.locator('.cm-content').click()
    await page.keyboard.type('vandalism')
    await page.keyboard.press('Backspace')
    expect(await editorText(page)).toBe('Do not change me')
    await expect(page.getByRole('note').textContent()).resolves.toMatch(
      /Read-only: .*only allows reading/,
    )
    expect(await page.getByRole('button', { name: 'New note' }).isDisabled()).toBe(true)
    // nothing reached the server either
    await new Promise((r) => setTimeout(r, 300))
    expect(body.getText('body').toJSON()).toBe('Do not change me')
    writer.close()
  })
})
