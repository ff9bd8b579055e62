import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FolderProvider, SyncEngine, bytesStream } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import { sha256HexSync } from '@skein/core/node'
import { expectConverged } from './cloud-sync-check.js'
import { startS3rver } from './helpers/s3rver.js'
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

/** Runs the child sync and SIGKILLs it once `after` operations have completed. */
function runAndKill(
  args: string[],
  after: number,
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
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/progress (\d+)/g)) last = Number(m[1])
      if (last >= after && !killed) {
        killed = true
        child.kill('SIGKILL')
      }
    })
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
  }, 60_000)

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
  }, 60_000)
})
