/**
 * The browser editor in Chromium: keypress in page A → rendered in page B
 * (200 keystrokes, each waited for), and time to open a 1 MB note in a fresh
 * profile (IndexedDB restore + sync + CodeMirror mount).
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { SyncClient, type WebSocketConstructor } from '@skein/client'
import { asDeviceId } from '@skein/core'
import { WorkspaceCrdt } from '@skein/workspace'
import { createNoteViaUi, editorText, openNote, startWebStack } from '../src/helpers/web-harness.js'
import { defineScenarios } from './harness.js'

/** Epoch time with sub-millisecond resolution, comparable between pages of one browser. */
const NOW = 'performance.timeOrigin + performance.now()'

export default defineScenarios(
  {
    name: 'web-keypress-to-remote-render',
    description:
      'Keypress in page A until the character is rendered in page B (same machine, loopback)',
    async run(ctx) {
      const stack = await startWebStack()
      try {
        const a = await (await stack.newDevice()).newPage()
        const b = await (await stack.newDevice()).newPage()
        await a.goto(stack.pageUrl('bench', { device: 'A' }))
        await b.goto(stack.pageUrl('bench', { device: 'B' }))
        await createNoteViaUi(a, 'keys.md')
        await b.locator('[role=treeitem][data-path="keys.md"]').waitFor()
        await openNote(b, 'keys.md')
        await a.locator('.cm-content').click()
        await a.evaluate(
          `window.__kd = []; document.addEventListener('keydown', () => window.__kd.push(${NOW}), true)`,
        )
        await b.evaluate(
          `window.__seen = []; new MutationObserver(() => window.__seen.push([${NOW}, window.skein.primary.editor.state.doc.length])).observe(document.querySelector('[data-pane=primary] .cm-content'), { subtree: true, childList: true, characterData: true })`,
        )
        const n = ctx.full ? 1000 : 200
        for (let i = 0; i < n; i++) {
          await a.keyboard.press(i % 40 === 39 ? 'Enter' : 'x')
          await b.waitForFunction(
            `window.skein.primary.editor.state.doc.length >= ${i + 1}`,
            undefined,
            { polling: 'raf' },
          )
        }
        const kd = await a.evaluate<number[]>('window.__kd')
        const seen = await b.evaluate<[number, number][]>('window.__seen')
        const samples = kd
          .map((t, i) => (seen.find(([, len]) => len >= i + 1)?.[0] ?? NaN) - t)
          .filter(Number.isFinite)
        ctx.log(`${samples.length} keystrokes measured`)
        return {
          metrics: [{ name: 'keypress A → render B', unit: 'ms', samples }],
          notes: [
            'Chromium headless, two browser contexts (two devices), server on 127.0.0.1, one keystroke in flight at a time',
          ],
        }
      } finally {
        await stack.close()
      }
    },
  },
  {
    name: 'web-open-1mb-note',
    description: 'Open a 1 MB note in a fresh browser profile until the editor shows it',
    async run(ctx) {
      const stack = await startWebStack()
      const client = new SyncClient({
        url: stack.sync.url,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
      })
      try {
        const ws = new Y.Doc()
        await client.open('big', ws).whenSynced
        const crdt = new WorkspaceCrdt(ws, { device: asDeviceId('seeder') })
        const line = 'The quick brown fox jumps over the lazy dog, again and again. 0123456789\n'
        const text = line.repeat(Math.ceil((1024 * 1024) / line.length))
        const id = crdt.createFile('big.md', {
          kind: 'text',
          hash: undefined,
          size: text.length,
          mtime: Date.now(),
        })
        const body = new Y.Doc()
        const bh = client.open(`big/${id}`, body)
        body.transact(() => {
          body.getMap('meta').set('gen', 1)
          body.getText('body').insert(0, text)
        })
        await bh.whenSynced
        while (bh.unsyncedChanges > 0) await new Promise((r) => setTimeout(r, 20))
        const samples: number[] = []
        const inPage: number[] = []
        for (let i = 0; i < (ctx.full ? 10 : 5); i++) {
          const page = await (await stack.newDevice()).newPage()
          await page.goto(stack.pageUrl('big'))
          await page.locator('[role=treeitem][data-path="big.md"]').waitFor()
          const t0 = performance.now()
          await openNote(page, 'big.md')
          while ((await editorText(page)).length !== text.length)
            await new Promise((r) => setTimeout(r, 5))
          samples.push(performance.now() - t0)
          inPage.push(
            Number(await page.locator('[data-pane=primary]').getAttribute('data-open-ms')),
          )
          await page.context().close()
        }
        ctx.log(`opened ${text.length} characters ${samples.length} times`)
        return {
          metrics: [
            { name: 'open 1 MB note (click → text shown)', unit: 'ms', samples },
            {
              name: 'open 1 MB note (in page: body load + sync + mount)',
              unit: 'ms',
              samples: inPage,
            },
          ],
          notes: [
            `${text.length} characters, ${text.split('\n').length} lines; fresh profile each time (no IndexedDB copy)`,
          ],
        }
      } finally {
        client.close()
        await stack.close()
      }
    },
  },
)
