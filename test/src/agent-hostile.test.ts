import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import { sha256HexSync } from '@skein/core/node'
import { AgentHarness, readText, until } from './helpers/agent-harness.js'
import { newClient } from './helpers/server-helpers.js'

describe('hostile names injected into the CRDT by a raw Yjs client', () => {
  let h: AgentHarness
  afterEach(async (ctx) => h.cleanup(ctx))

  it('refuses ..-laden, NUL-containing and state-folder names; nothing escapes the root', async () => {
    h = new AgentHarness()
    await h.startServer()
    const b = await h.agent('b', { 'own.md': 'own\n' })
    const before = readdirSync(join(b.root, '..')).sort()
    const raw = newClient(h.url)
    const doc = new Y.Doc()
    await raw.open(h.workspace, doc).whenSynced
    const files = doc.getMap<Y.Map<unknown>>('files')
    const bodies: Y.Doc[] = []
    const add = (id: string, fields: Record<string, unknown>, text?: string) => {
      const m = new Y.Map<unknown>()
      for (const [k, v] of Object.entries({
        parent: '',
        kind: 'text',
        size: 4,
        mtime: 1,
        createdAt: 1,
        gen: 1,
        ...fields,
      }))
        m.set(k, v)
      if (text !== undefined) {
        m.set('hash', sha256HexSync(text))
        const body = new Y.Doc()
        body.getMap('meta').set('gen', 1)
        body.getText('body').insert(0, text)
        bodies.push(body)
        raw.open(`${h.workspace}/${id}`, body)
      }
      files.set(id, m)
    }
    doc.transact(() => {
      add('evil0000000000000001', { name: '..' }, 'x')
      add('evil0000000000000002', { name: '../../escape.md' }, 'x')
      add('evil0000000000000003', { name: 'nul\u0000.md' }, 'x')
      add('evil0000000000000004', { name: '/etc/abs.md' }, 'x')
      add('evil0000000000000005', { name: 'back\\slash.md' }, 'x')
      add('evil0000000000000006', { name: '.skein', kind: 'folder' })
      add('evil0000000000000007', { name: 'state.md', parent: 'evil0000000000000006' }, 'x')
      add('evil0000000000000008', { name: 'deep', kind: 'folder', parent: 'evil0000000000000001' })
      add('evil0000000000000009', { name: 'in-dotdot.md', parent: 'evil0000000000000001' }, 'x')
      add('evil0000000000000010', { name: 'ignored.tmp' }, 'x')
      add('evil0000000000000011', { name: 'node_modules', kind: 'folder' })
      add('evil0000000000000012', { name: 'dep.js', parent: 'evil0000000000000011' }, 'x')
      add('good0000000000000001', { name: 'fine.md' }, 'fine\n')
    })
    await until('fine.md on B', () => readText(b.root, 'fine.md') === 'fine\n')
    await b.agent.whenIdle()
    const shown = readdirSync(b.root)
      .filter((n) => n !== '.skein')
      .sort()
    expect(shown.filter((n) => !['fine.md', 'own.md', 'lost+found'].includes(n))).toEqual([])
    expect(readdirSync(join(b.root, '..')).sort()).toEqual(before)
    expect(existsSync(join(b.root, '.skein/state.md'))).toBe(false)
    expect(existsSync(join(b.root, 'escape.md'))).toBe(false)
    // Ignore rules apply to remote entries too.
    expect(existsSync(join(b.root, 'ignored.tmp'))).toBe(false)
    expect(existsSync(join(b.root, 'node_modules'))).toBe(false)
    expect(b.issues.some((i) => i.kind === 'refused-remote' && i.path.startsWith('.skein'))).toBe(
      true,
    )
    raw.close()
  })
})
