/**
 * Child process of cloud-crash.test.ts: runs one slow sync and prints progress
 * lines, so the parent can SIGKILL it mid-run. Usage:
 * `node --conditions=@skein/source --import tsx cloud-crash-child.ts <local> folder <dir>`,
 * `… <local> s3 <endpoint> <prefix>`, or `… <local> s3-big <endpoint> <prefix>`
 * (5 MiB multipart parts, each part a little slow, so the kill lands mid-upload).
 */
import { FolderProvider, SyncEngine } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { FaultyProvider } from '@skein/cloud/testing'
import { S3Provider } from '@skein/cloud-s3'

const [local, kind, a, b] = process.argv.slice(2) as [string, string, string, string]
const MiB = 1024 * 1024

function s3(extra: Partial<ConstructorParameters<typeof S3Provider>[0]> = {}): S3Provider {
  return new S3Provider({
    bucket: 'skein-test',
    endpoint: a,
    prefix: b,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    ...extra,
  })
}

let provider: CloudSyncProvider
if (kind === 'folder') provider = new FolderProvider(a)
else if (kind === 's3') provider = s3()
else {
  const big = s3({ partSize: 5 * MiB, multipartThreshold: 5 * MiB, queueSize: 2 })
  // Fault injection (slowness only): every part waits before it is sent.
  big.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand') await new Promise((r) => setTimeout(r, 150))
      return next(args)
    },
    { step: 'initialize', name: 'slowParts' },
  )
  provider = big
}
// Every call a little slow, so the kill lands in the middle of the transfers.
const engine = new SyncEngine({
  local,
  provider: new FaultyProvider(provider, { rate: 1, kinds: ['slow'], delayMs: 10 }),
  concurrency: kind === 's3-big' ? 1 : 4,
})
await engine.sync({
  onProgress: (p) => {
    if (p.stage === 'uploading' || p.stage === 'downloading')
      process.stdout.write(`progress ${p.current}\n`)
  },
})
process.stdout.write('done\n')
