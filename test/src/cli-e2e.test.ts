import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LevelDocStore } from '@skein/store-leveldb'
import { alive, runSkein, spawnSkein, startServe, waitFor } from './helpers/cli.js'
import { startS3rver, type S3rverHandle } from './helpers/s3rver.js'

const tmp = () => mkdtemp(join(tmpdir(), 'skein-cli-'))

/** A file's text, or undefined while it does not exist. */
const read = (p: string) => readFile(p, 'utf8').catch(() => undefined)

/**
 * A running `skein serve` and two device folders: `a` holding one note, `b` not
 * made yet; `args(root, device)` is the `skein sync` command line for workspace "team".
 */
async function twoDevices(note: string, text: string) {
  const dir = await tmp()
  const [a, b, data] = [join(dir, 'a'), join(dir, 'b'), join(dir, 'data')]
  await mkdir(a)
  await writeFile(join(a, note), text)
  const serve = await startServe(data)
  const args = (root: string, device: string) =>
    ['sync', root, '--server', serve.url, '--workspace', 'team', '--device', device] as string[]
  return { a, b, serve, args }
}

describe('skein CLI: usage errors exit 2 with a one-line message naming the problem', () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--bogus'], /unknown flag --bogus/],
    [['serve', '--port', 'abc'], /--port: "abc"/],
    [['serve', '--port', '0', '--data', 'package.json'], /--data: .*package\.json is a file/],
    [['serve', '--auth', 'maybe'], /--auth: "maybe" is not one of open, token/],
    [['serve', '--write-interval', '5s'], /--write-interval: 5000 ms .* at most 1000ms/],
    [
      ['serve', '--auth', 'open', '--host', '0.0.0.0'],
      /--auth open is refused on non-loopback host/,
    ],
    [['token', 'create'], /--workspace is required/],
    [
      ['token', 'create', '--workspace', 'ok', '--expires', '3 weeks'],
      /--expires: "3 weeks" is not a duration/,
    ],
    [['sync'], /missing DIR/],
    [
      ['sync', '/nonexistent-skein-parent/notes', '--server', 'ws://127.0.0.1:1'],
      /neither \/nonexistent-skein-parent\/notes nor its parent folder exists/,
    ],
    [['sync', 'package.json', '--server', 'ws://127.0.0.1:1'], /package\.json is a file/],
    [['cloud', 'sync', '.', 'ftp://host/x'], /unsupported URL scheme/],
    [['cloud', 'sync', '.', '/tmp/x', '--compare', 'size,color'], /--compare: "color"/],
    [['prune', '/tmp/x'], /prune needs a policy/],
    [['prune', '/tmp/x', '--keep-last', '0'], /--keep-last: 0 is not a count of snapshots to keep/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ]
  it.each(cases)('skein %j', async (args, message) => {
    const r = await runSkein(args)
    expect(r.code).toBe(2)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('skein CLI end to end', () => {
  let s3: S3rverHandle
  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['skein-cli'] })
  })
  afterAll(async () => {
    await s3?.stop()
  })

  it('serve + two sync processes converge; SIGINT leaves no orphan and no lock', async () => {
    const dir = await tmp()
    const [a, b, data] = [join(dir, 'a'), join(dir, 'b'), join(dir, 'data')]
    await mkdir(a)
    await mkdir(b)
    await writeFile(join(a, 'hello.md'), 'hello from A\n')
    // every broadcast at once (the other tests run the default pacing)
    const serve = await startServe(data, ['--write-interval', '0ms'])
    const { url } = serve
    const syncA = spawnSkein([
      'sync',
      a,
      '--server',
      url,
      '--workspace',
      'team',
      '--device',
      'devA',
    ])
    const syncB = spawnSkein([
      'sync',
      b,
      '--server',
      url,
      '--workspace',
      'team',
      '--device',
      'devB',
    ])
    try {
      await waitFor(
        'A → B',
        async () => (await readFile(join(b, 'hello.md'), 'utf8')) === 'hello from A\n',
        30_000,
      )
      await writeFile(join(b, 'from-b.md'), 'written on B\n')
      await waitFor(
        'B → A',
        async () => (await readFile(join(a, 'from-b.md'), 'utf8')) === 'written on B\n',
        30_000,
      )
      const status = await runSkein(['status', a, '--json'])
      expect(status.code).toBe(0)
      const parsed = JSON.parse(status.stdout) as Record<string, unknown>
      expect(parsed).toMatchObject({
        running: true,
        workspace: 'team',
        device: 'devA',
        connection: 'online',
        pendingFiles: 0,
        conflicts: 0,
      })
    } finally {
      for (const p of [syncA, syncB, serve]) p.child.kill('SIGINT')
    }
    const results = await Promise.all([syncA.exited, syncB.exited, serve.exited])
    expect(results.map((r) => r.code)).toEqual([0, 0, 0])
    for (const p of [syncA, syncB, serve]) expect(alive(p.child.pid)).toBe(false)
    // The server's LevelDB lock was released: it opens again.
    const store = new LevelDocStore(join(data, 'db'))
    await store.load('team')
    await store.close()
  }, 90_000)

  it('sync makes a new device folder; conflicts show on every device until the copy is deleted', async () => {
    const { a, b, serve, args } = await twoDevices('n.md', 'line 1\nline 2\n')
    const syncA = spawnSkein(args(a, 'devA'))
    let syncB = spawnSkein(args(b, 'devB')) // b does not exist yet
    const copiesIn = async (root: string) =>
      (await readdir(root)).filter((n) => n.startsWith('n.conflict-'))
    try {
      await waitFor('n.md on B', async () => (await read(join(b, 'n.md'))) === 'line 1\nline 2\n')
      expect(syncB.out.stderr).toContain(`created ${b}`)
      syncB.child.kill('SIGINT')
      expect((await syncB.exited).code).toBe(0)
      await writeFile(join(a, 'n.md'), 'line 1\nA WAS HERE\n')
      await writeFile(join(b, 'n.md'), 'line 1\nB WAS HERE\n')
      syncB = spawnSkein(args(b, 'devB'))
      await waitFor(
        'one conflict copy on both',
        async () => (await copiesIn(a)).length === 1 && (await copiesIn(b)).length === 1,
        30_000,
      )
      const [copy] = await copiesIn(a)
      for (const root of [a, b]) {
        const listed = async () => {
          const r = await runSkein(['conflicts', root, '--json'])
          return { code: r.code, list: JSON.parse(r.stdout || '[]') as unknown[] }
        }
        // B's copy may land before the record naming it: wait for the listing
        await waitFor(`listed on ${root}`, async () => (await listed()).code === 3, 30_000)
        expect((await listed()).list).toEqual([
          expect.objectContaining({ path: 'n.md', kind: 'edit', copyPath: copy }),
        ])
      }
      await rm(join(a, copy as string))
      for (const root of [a, b])
        await waitFor(
          `settled on ${root}`,
          async () => (await runSkein(['conflicts', root])).code === 0,
          30_000,
        )
      expect((await runSkein(['conflicts', b])).stdout.trim()).toBe('no conflicts')
      // settled once the copy's entry is deleted; B removes the file just after
      await waitFor('copy gone on B', async () => (await copiesIn(b)).length === 0)
    } finally {
      for (const p of [syncA, syncB, serve]) p.child.kill('SIGINT')
      await Promise.all([syncA.exited, syncB.exited, serve.exited])
    }
  }, 120_000)

  it('trash lists and restores while sync runs: a note deleted on A comes back on both', async () => {
    const { a, b, serve, args } = await twoDevices('keep.md', 'keep me\n')
    const syncA = spawnSkein(args(a, 'devA'))
    const syncB = spawnSkein(args(b, 'devB'))
    try {
      await waitFor('keep.md on B', async () => (await read(join(b, 'keep.md'))) === 'keep me\n')
      await rm(join(a, 'keep.md'))
      await waitFor(
        "B's trash lists it",
        async () => (await runSkein(['trash', b])).stdout.trim() === 'keep.md',
        30_000,
      )
      expect(existsSync(join(b, 'keep.md'))).toBe(false)
      const missing = await runSkein(['trash', 'restore', b, 'other.md'])
      expect(missing.code).toBe(2)
      expect(missing.stderr).toMatch(/"other\.md" is not in the trash/)
      const restored = await runSkein(['trash', 'restore', b, 'keep.md'])
      expect(restored.code, restored.stderr).toBe(0)
      expect(restored.stdout.trim()).toBe('restored keep.md')
      await waitFor(
        'keep.md back on A',
        async () => (await read(join(a, 'keep.md'))) === 'keep me\n',
        30_000,
      )
      expect(await read(join(b, 'keep.md'))).toBe('keep me\n')
      await waitFor(
        'trash empty',
        async () => (await runSkein(['trash', b])).stdout.trim() === 'trash is empty',
      )
      expect(await readdir(join(b, '.skein', 'requests'))).toEqual([])
    } finally {
      for (const p of [syncA, syncB, serve]) p.child.kill('SIGINT')
      await Promise.all([syncA.exited, syncB.exited, serve.exited])
    }
    // stopped: the same commands open the state themselves
    expect((await runSkein(['trash', b])).stdout.trim()).toBe('trash is empty')
  }, 120_000)

  it('conflicts reads the last published status: a copy deleted since is settled; entries of an older agent still print', async () => {
    const root = await tmp()
    const copy = 'n.conflict-old-20260101-000000.md'
    await mkdir(join(root, '.skein'))
    // as an agent before open conflicts published them: no device, no time
    const entry = { fileId: 'x', path: 'n.md', kind: 'edit', policy: 'copy', copyPath: copy }
    const status = { pid: 2 ** 22 + 1, updatedAt: 0, server: 'ws://127.0.0.1:1' }
    await writeFile(
      join(root, '.skein', 'status.json'),
      JSON.stringify({ ...status, workspace: 'w', device: 'd', status: {}, conflicts: [entry] }),
    )
    const gone = await runSkein(['conflicts', root])
    expect([gone.code, gone.stdout.trim()]).toEqual([0, 'no conflicts'])
    await writeFile(join(root, copy), 'the other version\n')
    const listed = await runSkein(['conflicts', root])
    expect(listed.code, listed.stderr).toBe(3)
    expect(listed.stdout.trim()).toBe(
      `n.md: edit conflict found by a device → other version in ${copy} (delete it once merged)`,
    )
  })

  it('serve --backup-to snapshots every workspace with no device online; restore gives the notes back', async () => {
    const dir = await tmp()
    const [a, data, repo] = [join(dir, 'a'), join(dir, 'data'), join(dir, 'backups')]
    await mkdir(join(a, 'sub'), { recursive: true })
    await writeFile(join(a, 'sub', 'note.md'), 'backed up by the server\n')
    const serve = await startServe(data, ['--backup-to', repo, '--backup-every', '1s'])
    const { url } = serve
    const syncA = spawnSkein([
      'sync',
      a,
      '--server',
      url,
      '--workspace',
      'team',
      '--device',
      'devA',
    ])
    try {
      await waitFor(
        'a server-side snapshot',
        () => /backup: team: snapshot \S+ \(1 file\)/.test(serve.out.stderr),
        30_000,
      )
    } finally {
      syncA.child.kill('SIGINT')
      await syncA.exited
      serve.child.kill('SIGINT')
      await serve.exited
    }
    const out = join(dir, 'restored')
    const r = await runSkein(['restore', join(repo, 'team'), out])
    expect(r.code, r.stderr).toBe(0)
    expect(await readFile(join(out, 'sub', 'note.md'), 'utf8')).toBe('backed up by the server\n')
  }, 90_000)

  it('an unreachable server or a bad token exits 1 with a clear message', async () => {
    const dir = await tmp()
    const unreachable = await runSkein(
      ['sync', dir, '--server', 'ws://127.0.0.1:1', '--workspace', 'w'],
      { SKEIN_SYNC_TIMEOUT_MS: '1500' },
    )
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toMatch(/cannot reach ws:\/\/127\.0\.0\.1:1/)
    expect(unreachable.stderr).not.toMatch(/\n\s+at /)
    const data = join(dir, 'data')
    const serve = await startServe(data, ['--auth', 'token'])
    try {
      const { url } = serve
      const folder = join(dir, 'f')
      await mkdir(folder)
      const bad = await runSkein(
        ['sync', folder, '--server', url, '--workspace', 'w', '--token', 'not-a-token'],
        { SKEIN_SYNC_TIMEOUT_MS: '5000' },
      )
      expect(bad.code).toBe(1)
      expect(bad.stderr).toMatch(/token/i)
      expect(bad.stderr).not.toMatch(/\n\s+at /)
      // a token signed with another data dir's new secret: created, said so, refused by this server
      const elsewhere = await runSkein([
        'token',
        'create',
        '--workspace',
        'w',
        '--data',
        join(dir, 'other'),
      ])
      expect(elsewhere.code).toBe(0)
      expect(elsewhere.stderr).toMatch(
        /created a new signing secret in .*other\/secret: only a server started with --data/,
      )
      const refused = await runSkein(
        ['sync', folder, '--server', url, '--workspace', 'w', '--token', elsewhere.stdout.trim()],
        { SKEIN_SYNC_TIMEOUT_MS: '5000' },
      )
      expect(refused.code).toBe(1)
      // the server's own secret: nothing created, and the token syncs
      const good = await runSkein(['token', 'create', '--workspace', 'w', '--data', data])
      expect(good.code).toBe(0)
      expect(good.stderr).toBe('')
      const syncing = spawnSkein([
        'sync',
        folder,
        '--server',
        url,
        '--workspace',
        'w',
        '--token',
        good.stdout.trim(),
      ])
      try {
        await waitFor(
          'synced with the token',
          () => /syncing .* as /.test(syncing.out.stderr),
          30_000,
        )
        expect(syncing.out.stderr).not.toMatch(/refused/)
      } finally {
        syncing.child.kill('SIGINT')
        expect((await syncing.exited).code).toBe(0)
      }
    } finally {
      serve.child.kill('SIGINT')
      await serve.exited
    }
  }, 90_000)

  it('cloud sync, backup, snapshots and restore against a folder and s3rver, with --json shapes', async () => {
    const dir = await tmp()
    const src = join(dir, 'src')
    await mkdir(join(src, 'notes'), { recursive: true })
    await writeFile(join(src, 'notes', 'a.md'), 'alpha\n')
    await writeFile(join(src, 'b.bin'), Buffer.from([0, 1, 2, 3, 255]))
    const env = {
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      SKEIN_S3_ENDPOINT: s3.endpoint,
    }
    for (const target of [join(dir, 'folder-target'), 's3://skein-cli/sync']) {
      const r = await runSkein(['cloud', 'sync', src, target, '--json'], env)
      expect(r.code, r.stderr).toBe(0)
      const res = JSON.parse(r.stdout) as Record<string, unknown>
      expect(res).toMatchObject({
        success: true,
        filesUploaded: 2,
        filesDeleted: 0,
        conflicts: [],
        errors: [],
      })
      expect(typeof res.bytes).toBe('number')
    }
    for (const repo of [join(dir, 'repo'), 's3://skein-cli/backups']) {
      const b1 = await runSkein(['backup', src, repo, '--json'], env)
      expect(b1.code, b1.stderr).toBe(0)
      const first = JSON.parse(b1.stdout) as { snapshot: { id: string; fileCount: number } }
      expect(first.snapshot.fileCount).toBe(2)
      await writeFile(join(src, 'notes', 'a.md'), 'alpha changed\n')
      const b2 = await runSkein(['backup', src, repo, '--json'], env)
      expect(JSON.parse(b2.stdout)).toMatchObject({ blobsUploaded: 1 })
      const list = JSON.parse((await runSkein(['snapshots', repo, '--json'], env)).stdout) as {
        id: string
      }[]
      expect(list.map((s) => s.id)).toContain(first.snapshot.id)
      const out = join(dir, `restored-${list.length}-${repo.startsWith('s3') ? 's3' : 'folder'}`)
      const r = await runSkein(
        ['restore', repo, out, '--snapshot', first.snapshot.id, '--json'],
        env,
      )
      expect(r.code, r.stderr).toBe(0)
      expect(await readFile(join(out, 'notes', 'a.md'), 'utf8')).toBe('alpha\n')
      expect([...(await readFile(join(out, 'b.bin')))]).toEqual([0, 1, 2, 3, 255])
      // Restoring over an existing folder is refused by a safety guard (exit 4), nothing touched.
      const again = await runSkein(['restore', repo, out], env)
      expect(again.code).toBe(4)
      await writeFile(join(src, 'notes', 'a.md'), 'alpha\n')
    }
    expect(existsSync(join(dir, 'repo'))).toBe(true)
  }, 120_000)
})
