import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { FolderProvider } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import { runScenario } from './cloud-golden/runner.js'
import { startS3rver } from './helpers/s3rver.js'
import type { S3rverHandle } from './helpers/s3rver.js'

const root = join(dirname(fileURLToPath(import.meta.url)), 'cloud-golden')
const scenarios = (await readdir(root, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-golden-'))
  temps.push(d)
  return d
}
afterAll(
  async () => void (await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))),
)

describe('golden scenarios: FolderProvider', () => {
  for (const name of scenarios)
    it(name, async () => {
      await runScenario(
        join(root, name),
        await temp(),
        new FolderProvider(await temp(), { fsync: 'none' }),
      )
    })
})

describe('golden scenarios: S3Provider (s3rver)', () => {
  let server: S3rverHandle
  beforeAll(async () => {
    server = await startS3rver()
  })
  afterAll(async () => server?.stop())
  let n = 0
  for (const name of scenarios)
    it(
      name,
      async () => {
        const provider = new S3Provider({
          bucket: 'skein-test',
          prefix: `g${++n}/`,
          endpoint: server.endpoint,
          credentials: server.credentials,
        })
        try {
          await runScenario(join(root, name), await temp(), provider, { concurrency: 16 })
        } finally {
          await provider.close()
        }
      },
      120_000,
    )
})
