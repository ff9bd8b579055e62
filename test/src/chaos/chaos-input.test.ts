/**
 * Hostile and awkward input from the chaos catalogue (issue 9), each checked
 * by the oracle: names a malicious peer writes straight into the workspace
 * document, a 100 MB text file (past the text limit: synced as a blob), and a
 * file that flips between text and binary.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { MAX_SEGMENT_BYTES, newFileId, normalizeName } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import { newClient } from '../helpers/server-helpers.js'
import { tokensIn } from './history.js'
import { readTree } from './tree.js'
import { runScenario, summary } from './run.js'
import { fileOps, poll, put, settle, sleep } from './scenario-helpers.js'
import type { ChaosWorld } from './world.js'

const root = (world: ChaosWorld, i: number) => world.devices[i]?.root ?? ''
const readBytes = (world: ChaosWorld, i: number, path: string) => {
  try {
    return readFileSync(join(root(world, i), path))
  } catch {
    return undefined
  }
}
const enc = new TextEncoder()

describe('chaos: hostile and awkward input', () => {
  it('hostile names from a malicious peer: nothing escapes a root, invalid names never reach disk, tricky valid ones end identical', async () => {
    const escapeName = `escape-${process.pid}-${Date.now()}.md`
    const absName = `/tmp/skein-chaos-abs-${process.pid}-${Date.now()}.md`
    const r = await runScenario(
      'hostile names from a malicious peer',
      { devices: 2 },
      async ({ world, history, rng }) => {
        await fileOps(history, rng, 4)
        await settle(world, 'before the peer turns hostile')
        const outside = () =>
          readdirSync(world.base)
            .filter((n) => !/^faults-|\.log$/.test(n))
            .sort()
        const before = outside()

        const raw = newClient(world.serverUrl)
        const doc = new Y.Doc()
        await raw.open(world.workspace, doc).whenSynced
        const files = doc.getMap<Y.Map<unknown>>('files')
        const bodies: Y.Doc[] = []
        /** Valid entries: name (as the peer wrote it) → token in its body. */
        const valid = new Map<string, string>()
        const add = (o: {
          name: string
          kind?: 'text' | 'folder'
          parent?: string
          good?: boolean
        }): string => {
          const id = newFileId()
          const m = new Y.Map<unknown>()
          const kind = o.kind ?? 'text'
          const fields: Record<string, unknown> = {
            name: o.name,
            parent: o.parent ?? '',
            kind,
            mtime: 1,
            createdAt: 1 + bodies.length,
            createdBy: 'mallory',
            gen: 1,
          }
          if (kind === 'text') {
            const token = o.good ? history.ledger.next(`hostile peer: ${o.name}`) : 'EVIL'
            const text = `${token} from a hostile peer\n`
            if (o.good) valid.set(o.name, token)
            fields.hash = sha256HexSync(text)
            fields.size = enc.encode(text).length
            const body = new Y.Doc()
            body.getMap('meta').set('gen', 1)
            body.getText('body').insert(0, text)
            bodies.push(body)
            raw.open(`${world.workspace}/${id}`, body)
          }
          for (const [k, v] of Object.entries(fields)) m.set(k, v)
          files.set(id, m)
          return id
        }
        doc.transact(() => {
          add({ name: '..', kind: 'folder' })
          add({ name: '.', kind: 'folder' })
          add({ name: `../../${escapeName}` })
          add({ name: absName })
          add({ name: 'a/b.md' })
          add({ name: 'back\\slash.md' })
          add({ name: 'nul\u0000.md' })
          add({ name: 'bell\u0007.md' })
          add({ name: 'esc\u001b[31mred.md' })
          add({ name: 'del\u007f.md' })
          add({ name: 'c1\u0085.md' })
          add({ name: 'newline\n.md' })
          add({ name: `${'x'.repeat(297)}.md` }) // a 300-byte segment
          add({ name: `${'é'.repeat(150)}.md` }) // 303 bytes in 153 characters
          add({ name: '' })
          // Valid, but tricky: Unicode twins, case twins, a name at the byte limit.
          add({ name: 'caf\u00e9.md', good: true })
          add({ name: 'cafe\u0301.md', good: true })
          add({ name: 'Note.md', good: true })
          add({ name: 'note.md', good: true })
          add({ name: 'straße.md', good: true })
          add({ name: 'STRASSE.md', good: true })
          add({ name: `${'L'.repeat(MAX_SEGMENT_BYTES - 3)}.md`, good: true })
          add({ name: `${'l'.repeat(MAX_SEGMENT_BYTES - 3)}.md`, good: true })
          // A lone surrogate cannot cross the wire (UTF-8): it arrives as U+FFFD, a valid name.
          add({ name: 'lone\ud800surrogate.md', good: true })
        })
        world.note(`-- hostile peer wrote ${files.size} entries (${valid.size} valid)`)
        await poll(
          'the valid hostile entries on both devices',
          () =>
            [0, 1].every((i) => {
              const found = new Set<string>()
              for (const n of readTree(root(world, i)).values())
                if (n.kind === 'file') for (const t of tokensIn(n.bytes)) found.add(t)
              return [...valid.values()].every((t) => found.has(t))
            }),
          30_000,
        )
        await settle(world, 'the attack absorbed')
        // Every valid entry is a file of its own on every device (no twin overwrote another).
        for (const [i] of world.devices.entries()) {
          const tree = readTree(root(world, i))
          const holders = [...valid.values()].map(
            (t) =>
              [...tree].filter(([, n]) => n.kind === 'file' && tokensIn(n.bytes).includes(t))
                .length,
          )
          expect(holders, `d${i}: files holding each valid entry's token`).toEqual(
            [...valid.values()].map(() => 1),
          )
        }
        // Life goes on after the attack, on both devices (concurrent appends to one note
        // were fixed: seed 2003133776, DiskWriter puts back a write that raced its rename).
        for (let k = 0; k < 8; k++)
          await history.one(rng.pick(['create', 'append', 'insert', 'rename'] as const), k % 2)
        await settle(world, 'after the attack')
        raw.close()
        for (const b of bodies) b.destroy()

        expect(outside(), 'something was written next to the device roots').toEqual(before)
        expect(existsSync(join(tmpdir(), escapeName)), 'escaped via ..').toBe(false)
        expect(existsSync(join(world.base, escapeName)), 'escaped via ..').toBe(false)
        expect(existsSync(absName), 'written at an absolute path').toBe(false)
        for (const [i] of world.devices.entries()) {
          const tree = readTree(root(world, i))
          for (const [path, n] of tree) {
            for (const seg of path.split('/')) {
              expect(() => normalizeName(seg), `d${i} has an invalid name ${path}`).not.toThrow()
              expect(enc.encode(seg).length).toBeLessThanOrEqual(MAX_SEGMENT_BYTES)
            }
            if (n.kind === 'file')
              expect(Buffer.from(n.bytes).includes('EVIL'), `d${i} wrote ${path}`).toBe(false)
          }
        }
      },
    )
    console.log(summary(r))
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)

  it('an entry whose parent is invalid shows in lost+found; the folder stays in step with the workspace', async () => {
    const r = await runScenario(
      'orphans of a malicious peer in lost+found',
      { devices: 2 },
      async ({ world, history }) => {
        const raw = newClient(world.serverUrl)
        const doc = new Y.Doc()
        await raw.open(world.workspace, doc).whenSynced
        const files = doc.getMap<Y.Map<unknown>>('files')
        const token = history.ledger.next('hostile peer: an orphan under ".."')
        const text = `${token} from a hostile peer\n`
        const dotdot = newFileId()
        const orphan = newFileId()
        const body = new Y.Doc()
        body.getMap('meta').set('gen', 1)
        body.getText('body').insert(0, text)
        raw.open(`${world.workspace}/${orphan}`, body)
        const entry = (fields: Record<string, unknown>) => {
          const m = new Y.Map<unknown>()
          for (const [k, v] of Object.entries({ mtime: 1, createdAt: 1, gen: 1, ...fields }))
            m.set(k, v)
          return m
        }
        doc.transact(() => {
          files.set(dotdot, entry({ name: '..', parent: '', kind: 'folder' }))
          files.set(
            orphan,
            entry({
              name: 'orphan.md',
              parent: dotdot,
              kind: 'text',
              hash: sha256HexSync(text),
              size: enc.encode(text).length,
            }),
          )
        })
        await poll('lost+found/orphan.md on both devices', () =>
          [0, 1].every((i) => readBytes(world, i, 'lost+found/orphan.md')?.includes(token)),
        )
        await settle(world, 'the orphan arrived')
        // A user edits it where it is (an editor save: temp file, then rename).
        const edit = history.ledger.next('d0 edits lost+found/orphan.md')
        const abs = join(root(world, 0), 'lost+found/orphan.md')
        writeFileSync(`${abs}.tmp`, `${text}${edit}\n`)
        renameSync(`${abs}.tmp`, abs)
        await poll('the edit of the orphan on d1', () =>
          readBytes(world, 1, 'lost+found/orphan.md')?.includes(edit),
        )
        await settle(world, 'the orphan edited')
        // A user moves the orphan out: lost+found is empty, and goes away everywhere.
        renameSync(join(root(world, 1), 'lost+found/orphan.md'), join(root(world, 1), 'adopted.md'))
        world.note('d1 moves lost+found/orphan.md to adopted.md')
        raw.close()
        body.destroy()
      },
    )
    console.log(summary(r))
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)

  it('a 100 MB text file (past the text limit) reaches every device byte-identical, and so does an edit of it', async () => {
    let size = 0
    const r = await runScenario(
      'a 100 MB text file',
      { devices: 2 },
      async ({ world, history }) => {
        const first = history.ledger.next('d0 creates huge.md')
        const line = 'a long line of an exported log, the kind of text file that grows big\n'
        const body = Buffer.alloc(100 * 1024 * 1024, line)
        const data = Buffer.concat([Buffer.from(`${first}\n`), body])
        size = data.length
        writeFileSync(join(root(world, 0), 'huge.md'), data)
        const hash = sha256HexSync(data)
        world.note(`d0 wrote huge.md (${data.length} bytes)`)
        await poll(
          'huge.md on d1',
          () => {
            const b = readBytes(world, 1, 'huge.md')
            return b?.length === data.length && sha256HexSync(b) === hash
          },
          45_000,
        )
        // An edit on the other device (still past the limit) comes back whole.
        const second = history.ledger.next('d1 appends to huge.md')
        writeFileSync(join(root(world, 1), 'huge.md'), `${second}\n`, { flag: 'a' })
        await poll(
          'the edit of huge.md on d0',
          () => readBytes(world, 0, 'huge.md')?.subarray(-20).toString().includes(second),
          45_000,
        )
      },
    )
    console.log(summary(r))
    expect(size).toBeGreaterThan(100 * 1024 * 1024)
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 180_000)

  it('a file that flips between text and binary, at rest and in quick succession, ends identical everywhere with its tokens', async () => {
    const r = await runScenario(
      'a file that flips between text and binary',
      { devices: 2 },
      async ({ world, history, rng }) => {
        const path = 'flip.md'
        put(root(world, 0), path, `${history.ledger.next('d0 creates flip.md')}\n`)
        await settle(world, 'flip.md created')
        /** Text → binary (NUL and bytes that are not UTF-8) or binary → text (its tokens as lines). */
        const flip = (i: number): Buffer | undefined => {
          const before = readBytes(world, i, path)
          if (!before) return undefined
          const token = history.ledger.next(`d${i} flips flip.md`)
          const after = before.includes(0)
            ? Buffer.from(
                tokensIn(before)
                  .map((t) => `${t}\n`)
                  .join('') + `${token}\n`,
              )
            : Buffer.concat([before, Buffer.from([0, 0xff, 0xfe, 0x80]), Buffer.from(`${token}\n`)])
          writeFileSync(join(root(world, i), path), after)
          world.note(`d${i} flips ${path} to ${after.includes(0) ? 'binary' : 'text'} ${token}`)
          return after
        }
        // At rest between flips: each flip reaches the other device before the next.
        for (let k = 0; k < 4; k++) {
          const i = k % 2
          const after = flip(i)
          if (!after) throw new Error(`${path} vanished from d${i}`)
          await poll(`flip ${k + 1} on d${1 - i}`, () =>
            readBytes(world, 1 - i, path)?.equals(after),
          )
        }
        // In quick succession, on both devices (concurrent flips conflict: copies keep the tokens).
        for (let k = 0; k < 6; k++) {
          flip(rng.int(2))
          await sleep(rng.int(300))
        }
      },
    )
    console.log(summary(r))
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)

  // seed 394154836 (extensive): deleting a folder with 5 of a small workspace's 8 files
  // paused the device (as designed) and the oracle read the pause as a failure to converge.
  it('a folder holding most of a small workspace deleted: the guard pauses, the user confirms, every device converges', async () => {
    const r = await runScenario(
      'most of a small workspace deleted at once',
      { devices: 2 },
      async ({ world, history }) => {
        for (const [i, path] of [
          'doomed/a.md',
          'doomed/b.md',
          'doomed/sub/c.md',
          'doomed/d.md',
          'doomed/e.md',
          'doomed/f.md',
          'kept/g.md',
          'kept/h.md',
        ].entries())
          put(root(world, 0), path, `${history.ledger.next(`d0 creates ${path} (${i})`)}\n`)
        await settle(world, 'eight notes on both')
        // While d1's agent is stopped, so that its next scan sees every delete at once.
        await world.stopDevice(1)
        const doomed = join(root(world, 1), 'doomed')
        for (const n of readTree(doomed).values()) history.ledger.removedBetween(n.bytes, undefined)
        rmSync(doomed, { recursive: true, force: true })
        world.note('d1 deletes doomed/ (6 of 8 notes) while stopped')
        await world.startDevice(1)
        await poll('d1 paused by the mass-delete guard', async () =>
          (await world.report(1)).status.state === 'paused' ? true : undefined,
        )
      },
    )
    console.log(summary(r))
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
    expect(r.log.filter((l) => l.includes('mass-delete guard; resumed'))).toHaveLength(1)
  }, 120_000)
})
