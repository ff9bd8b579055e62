import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FolderProvider, SyncEngine, bytesStream, readAll } from '@skein/cloud'
import type { CloudSyncProvider, UploadCheckpoint } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import { sha256HexSync } from '@skein/core/node'
import { expectConverged } from './cloud-sync-check.js'
import { countS3Commands, startS3rver } from './helpers/s3rver.js'
import type { S3rverHandle } from './helpers/s3rver.js'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..')
const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-crash-'))
  temps.push(d)
  return d
}
let server: S3rverHandle
beforeAll(async () => {
  server = await startS3rver()
})
afterAll(async () => {
  await server.stop()
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})

/**
 * Runs the child sync and SIGKILLs it once `after` operations have completed, or,
 * with `ready`, once that (polled) condition holds.
 */
function runAndKill(
  args: string[],
  after: number,
  ready?: () => Promise<boolean>,
): Promise<{ killed: boolean; lastProgress: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@skein/source',
        '--import',
        'tsx',
        join(here, 'cloud-crash-child.ts'),
        ...args,
      ],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let last = 0
    let err = ''
    let killed = false
    const kill = () => {
      if (killed) return
      killed = true
      child.kill('SIGKILL')
    }
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/progress (\d+)/g)) last = Number(m[1])
      if (!ready && last >= after) kill()
    })
    const poll = async () => {
      while (ready && !killed && child.exitCode === null) {
        if (await ready()) return kill()
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    void poll()
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed, lastProgress: last })
      else reject(new Error(`child ended (${code}) before the kill: ${err.slice(-2000)}`))
    })
  })
}

async function prepare(provider: CloudSyncProvider) {
  const local = await temp()
  for (let i = 0; i < 150; i++) {
    await mkdir(join(local, `d${i % 7}`), { recursive: true })
    await writeFile(join(local, `d${i % 7}/n${i}.md`), `local note ${i}\n`.repeat(1 + (i % 50)))
  }
  for (let i = 0; i < 100; i++) {
    const b = Buffer.from(`remote note ${i}\n`.repeat(1 + (i % 40)))
    await provider.upload(`in/r${i}.md`, bytesStream(b), {
      size: b.length,
      sha256: sha256HexSync(b),
      mtime: Date.now(),
    })
  }
  return local
}

async function strayFiles(local: string): Promise<string[]> {
  const all = await readdir(local, { recursive: true })
  return all.filter((p) => p.endsWith('.tmp') && !p.startsWith('.skein'))
}

describe('crash safety (SIGKILL mid-run)', () => {
  it('CR1 FolderProvider: killed mid-run, the next run resumes from the log and converges; nothing lost or half-written', async () => {
    const remoteDir = await temp()
    const provider = new FolderProvider(remoteDir)
    const local = await prepare(provider)
    const { killed, lastProgress } = await runAndKill([local, 'folder', remoteDir], 60)
    expect(killed).toBe(true)
    expect(lastProgress).toBeLessThan(250)
    expect(await strayFiles(local)).toEqual([])
    const r = await new SyncEngine({ local, provider }).sync()
    expect(r.errors).toEqual([])
    expect(r.warnings.join('\n')).toMatch(/Resumed after an interrupted run/)
    expect(r.filesUploaded + r.filesDownloaded).toBeLessThan(250)
    expect(await expectConverged(local, provider)).toBe(250)
  }, 180_000)

  it('CR2 S3Provider: killed mid-run, the next run converges', async () => {
    const prefix = 'crash/'
    const provider = new S3Provider({
      bucket: 'skein-test',
      prefix,
      endpoint: server.endpoint,
      credentials: server.credentials,
    })
    const local = await prepare(provider)
    const { killed } = await runAndKill([local, 's3', server.endpoint, prefix], 60)
    expect(killed).toBe(true)
    const r = await new SyncEngine({ local, provider }).sync()
    expect(r.errors).toEqual([])
    expect(await expectConverged(local, provider)).toBe(250)
    await provider.close()
  }, 180_000)
})

const MiB = 1024 * 1024
/** Deterministic, incompressible-enough content (no randomness to seed). */
function pattern(bytes: number, salt: number): Buffer {
  const b = Buffer.alloc(bytes)
  for (let i = 0; i + 4 <= b.length; i += 4) b.writeUInt32LE(((i + salt) * 2654435761) >>> 0, i)
  return b
}
/** The engine's upload checkpoints for `local`, by path. */
async function checkpoints(local: string): Promise<Map<string, UploadCheckpoint>> {
  const dir = join(local, '.skein/cloud/manifest.json.uploads')
  const out = new Map<string, UploadCheckpoint>()
  for (const f of await readdir(dir).catch(() => [])) {
    if (!f.endsWith('.json')) continue
    const data = JSON.parse(await readFile(join(dir, f), 'utf8')) as {
      path: string
      checkpoint: UploadCheckpoint
    }
    out.set(data.path, data.checkpoint)
  }
  return out
}
/** Incomplete multipart uploads s3rver still holds (it keeps one folder per upload id). */
const s3rverUploads = () =>
  readdir(join(server.directory, 'skein-test', '._S3rver_uploads')).catch(() => [])
const bigProvider = (prefix: string, queueSize = 4) =>
  new S3Provider({
    bucket: 'skein-test',
    prefix,
    endpoint: server.endpoint,
    credentials: server.credentials,
    partSize: 5 * MiB,
    multipartThreshold: 5 * MiB,
    queueSize,
  })

describe('resumable multipart uploads', () => {
  it('CR3 S3Provider: a multipart upload killed midway resumes: only the missing parts are sent, the object verifies, nothing is left behind', async () => {
    const prefix = 'resume/'
    const local = await temp()
    const big = pattern(50 * MiB, 7) // 10 parts of 5 MiB
    await writeFile(join(local, 'big.bin'), big)
    const { killed } = await runAndKill(
      [local, 's3-big', server.endpoint, prefix],
      0,
      async () => ((await checkpoints(local)).get('big.bin')?.parts.length ?? 0) >= 3,
    )
    expect(killed).toBe(true)
    const cp = (await checkpoints(local)).get('big.bin')
    expect(cp).toBeDefined()
    const stored = cp!.parts.length
    expect(stored).toBeGreaterThanOrEqual(3)
    expect(stored).toBeLessThan(10)
    expect(await s3rverUploads()).toContain(cp!.uploadId) // the server holds the incomplete upload

    const provider = bigProvider(prefix)
    const calls = countS3Commands(provider.client)
    const r = await new SyncEngine({ local, provider }).sync()
    expect(r.errors).toEqual([])
    expect(r.filesUploaded).toBe(1)
    // Continued, not restarted: no new upload, only the parts the checkpoint lacked.
    expect(calls.CreateMultipartUploadCommand ?? 0).toBe(0)
    expect(calls.UploadPartCommand).toBe(10 - stored)
    expect(calls.CompleteMultipartUploadCommand).toBe(1)
    const d = await provider.download('big.bin')
    expect(sha256HexSync(await readAll(d!.body))).toBe(sha256HexSync(big))
    expect(await expectConverged(local, provider)).toBe(1)
    expect(await checkpoints(local)).toEqual(new Map())
    expect(await s3rverUploads()).toEqual([])
    await provider.close()
  }, 180_000)

  it('CR4 an interrupted upload nobody needs any more is aborted: its file changed (a new upload replaces it) or is gone', async () => {
    const prefix = 'abandon/'
    const local = await temp()
    await writeFile(join(local, 'a.bin'), pattern(12 * MiB, 1))
    await writeFile(join(local, 'b.bin'), pattern(12 * MiB, 2))
    const provider = bigProvider(prefix, 1)
    const stop = new AbortController()
    let bothStarted: () => void = () => undefined
    const started = new Promise<void>((r) => (bothStarted = r))
    const aborted: string[] = []
    const calls = countS3Commands(provider.client, async (name, input) => {
      if (name === 'CreateMultipartUploadCommand' && calls[name] === 2) bothStarted()
      // Hold parts back until both uploads exist; stop the run at the second part.
      if (name === 'UploadPartCommand') {
        await started
        if (calls[name] === 2) stop.abort()
      }
      if (name === 'AbortMultipartUploadCommand') aborted.push(String(input.UploadId))
    })
    await expect(
      new SyncEngine({ local, provider, concurrency: 2 }).sync({ signal: stop.signal }),
    ).rejects.toMatchObject({ code: 'CLOSED' })
    const before = await checkpoints(local)
    expect([...before.keys()].sort()).toEqual(['a.bin', 'b.bin'])

    await writeFile(join(local, 'a.bin'), pattern(12 * MiB, 3))
    await rm(join(local, 'b.bin'))
    for (const k of Object.keys(calls)) delete calls[k]
    const r = await new SyncEngine({ local, provider }).sync()
    expect(r.errors).toEqual([])
    expect(r.filesUploaded).toBe(1)
    expect(aborted.sort()).toEqual(
      [before.get('a.bin')!.uploadId, before.get('b.bin')!.uploadId].sort(),
    )
    expect(calls.CreateMultipartUploadCommand).toBe(1)
    expect(calls.UploadPartCommand).toBe(3)
    // s3rver has no AbortMultipartUpload (HTTP 405): the run says so instead of failing.
    expect(r.warnings.join('\n')).toMatch(/Could not abort the interrupted upload of "a.bin"/)
    expect(await checkpoints(local)).toEqual(new Map())
    expect(await expectConverged(local, provider)).toBe(1)
    await provider.close()
  }, 180_000)
})
