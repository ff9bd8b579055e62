/**
 * Child process of cloud-crash.test.ts: runs one slow sync and prints progress
 * lines, so the parent can SIGKILL it mid-run. Usage:
 * `node --conditions=@skein/source --import tsx cloud-crash-child.ts <local> folder <dir>`
 * or `… <local> s3 <endpoint> <prefix>`.
 */
import { FolderProvider, SyncEngine } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { FaultyProvider } from '@skein/cloud/testing'
import { S3Provider } from '@skein/cloud-s3'

const [local, kind, a, b] = process.argv.slice(2) as [string, string, string, string]
const inner: CloudSyncProvider =
  kind === 'folder'
    ? new FolderProvider(a)
    : new S3Provider({
        bucket: 'skein-test',
        endpoint: a,
        prefix: b,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      })
// Every call a little slow, so the kill lands in the middle of the transfers.
const provider = new FaultyProvider(inner, { rate: 1, kinds: ['slow'], delayMs: 10 })
const engine = new SyncEngine({ local, provider, concurrency: 4 })
await engine.sync({
  onProgress: (p) => {
    if (p.stage === 'uploading' || p.stage === 'downloading')
      process.stdout.write(`progress ${p.current}\n`)
  },
})
process.stdout.write('done\n')
