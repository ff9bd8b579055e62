import { readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import * as Y from 'yjs'
import { BenchServer, skeinClient } from './src/helpers/server-bench-clients.js'
type Patch = [number, number, string]
const json = JSON.parse(gunzipSync(readFileSync(join(process.cwd(), '..', 'shared', 'data', 'editing-traces', 'automerge-paper.json.gz'))).toString()) as { txns: { patches: Patch[] }[]; endContent: string }
const patches = json.txns.flatMap((t) => t.patches)
for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
  const server = await BenchServer.start('skein', mkdtempSync(join(tmpdir(), 'tr-')))
  const writer = new Y.Doc(), reader = new Y.Doc()
  const cw = skeinClient(server.port), cr = skeinClient(server.port)
  const hw = cw.open('ws1/trace', writer), hr = cr.open('ws1/trace', reader)
  const events: string[] = []
  cw.onStatus?.((s: string) => events.push(`w:${s}`))
  cr.onStatus?.((s: string) => events.push(`r:${s}`))
  hw.onStatus((s) => events.push(`hw:${s}`))
  hr.onStatus((s) => events.push(`hr:${s}`))
  await Promise.all([hw.whenSynced, hr.whenSynced])
  const t0 = performance.now()
  const text = writer.getText('t')
  for (const [pos, del, ins] of patches) writer.transact(() => { if (del) text.delete(pos, del); if (ins) text.insert(pos, ins) })
  const rt = reader.getText('t')
  let ok = false
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 1000))
    if (rt.length === json.endContent.length && rt.toString() === json.endContent) { ok = true; break }
  }
  console.log(`round ${round}: ${ok ? 'ok' : 'STALLED'} ${(performance.now() - t0).toFixed(0)} ms; reader ${rt.length}/${json.endContent.length}; writer ok ${text.toString() === json.endContent}; hw ${hw.status} unsynced ${hw.unsyncedChanges}; hr ${hr.status}; events ${events.join(',')}`)
  if (!ok) console.log('reader SV', [...Y.decodeStateVector(Y.encodeStateVector(reader))], 'writer SV', [...Y.decodeStateVector(Y.encodeStateVector(writer))])
  cw.close(); cr.close()
  await server.stop()
}
process.exit(0)
