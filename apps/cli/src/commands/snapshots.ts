import { backup, listSnapshots, prune, restore } from '@skein/cloud'
import { SkeinError } from '@skein/core'
import { bool, num, str, type Command, type CommandContext } from '../command.js'
import { UsageError } from '../exit-codes.js'
import { openProvider } from '../provider-url.js'
import { S3_FLAGS } from './cloud.js'
import { count } from '../plural.js'

const common = {
  ...S3_FLAGS,
  passphrase: {
    type: 'string',
    desc: 'encrypt/decrypt the repository (prefer the env var)',
    env: 'SKEIN_PASSPHRASE',
  },
  json: { type: 'boolean', desc: 'print the result as JSON' },
} as const

function repo(ctx: CommandContext, url: string) {
  const { provider } = openProvider(
    url,
    { endpoint: str(ctx.flags.endpoint), region: str(ctx.flags.region) },
    ctx.env,
  )
  const passphrase = str(ctx.flags.passphrase)
  return { provider, ...(passphrase ? { passphrase } : {}), signal: ctx.signal }
}

export const backupCmd: Command = {
  spec: {
    name: 'backup',
    summary:
      'Take a snapshot of a folder into a repository (content-addressed, deduplicated, incremental).',
    positionals: [
      { name: 'DIR', required: true, desc: 'folder to back up' },
      {
        name: 'URL',
        required: true,
        desc: 'repository: /path, file:///path or s3://bucket/prefix',
      },
    ],
    flags: {
      label: { type: 'string', desc: 'label stored with the snapshot (default: the folder path)' },
      ...common,
    },
  },
  configDir: (p) => p[0],
  async run(ctx) {
    const [dir, url] = ctx.positionals as [string, string]
    const label = str(ctx.flags.label)
    const r = await backup({ ...repo(ctx, url), source: dir, ...(label ? { label } : {}) })
    if (bool(ctx.flags.json)) ctx.out(JSON.stringify(r))
    else
      ctx.out(
        `snapshot ${r.snapshot.id}: ${count(r.snapshot.fileCount, 'file')}, ${count(r.snapshot.totalSize, 'byte')}; uploaded ${count(r.blobsUploaded, 'new blob')} (${count(r.bytesUploaded, 'byte')}), hashed ${count(r.filesHashed, 'file')}`,
      )
    return 0
  },
}

export const snapshotsCmd: Command = {
  spec: {
    name: 'snapshots',
    summary: 'List the snapshots in a repository, oldest first.',
    positionals: [{ name: 'URL', required: true, desc: 'repository' }],
    flags: { ...common },
  },
  async run(ctx) {
    const list = await listSnapshots(repo(ctx, ctx.positionals[0] as string))
    if (bool(ctx.flags.json)) ctx.out(JSON.stringify(list))
    else
      for (const s of list)
        ctx.out(
          `${s.id}  ${new Date(s.time).toISOString()}  ${String(s.fileCount).padStart(6)} files  ${String(s.totalSize).padStart(12)} bytes  ${s.label}`,
        )
    return 0
  },
}

export const restoreCmd: Command = {
  spec: {
    name: 'restore',
    summary: 'Restore a snapshot into an empty or new folder, verifying every file hash.',
    positionals: [
      { name: 'URL', required: true, desc: 'repository' },
      { name: 'DIR', required: true, desc: 'target folder (must be empty or not exist)' },
    ],
    flags: {
      snapshot: { type: 'string', desc: 'snapshot id or "latest"', default: 'latest' },
      path: { type: 'string', desc: 'restore only this file or folder' },
      ...common,
    },
  },
  async run(ctx) {
    const [url, dir] = ctx.positionals as [string, string]
    const opts = repo(ctx, url)
    let id = str(ctx.flags.snapshot) ?? 'latest'
    if (id === 'latest') {
      const list = await listSnapshots(opts)
      const last = list[list.length - 1]
      if (!last)
        throw new SkeinError(
          'NOT_FOUND',
          `No snapshots in ${url}; take one with "skein backup DIR ${url}".`,
        )
      id = last.id
    }
    const path = str(ctx.flags.path)
    const r = await restore({
      ...opts,
      snapshot: id,
      target: dir,
      ...(path ? { paths: [path] } : {}),
    })
    if (bool(ctx.flags.json)) ctx.out(JSON.stringify({ snapshot: id, ...r }))
    else
      ctx.out(
        `restored snapshot ${id}: ${count(r.files, 'file')}, ${count(r.bytes, 'byte')} into ${dir}`,
      )
    return 0
  },
}

export const pruneCmd: Command = {
  spec: {
    name: 'prune',
    summary: 'Delete snapshots outside the retention policy and the blobs only they referenced.',
    positionals: [{ name: 'URL', required: true, desc: 'repository' }],
    flags: {
      'keep-last': { type: 'number', desc: 'keep the newest N snapshots' },
      'keep-daily': { type: 'number', desc: 'keep one per day for the last N days' },
      'keep-weekly': { type: 'number', desc: 'keep one per week for the last N weeks' },
      'dry-run': { type: 'boolean', desc: 'report only' },
      ...common,
    },
  },
  async run(ctx) {
    const keepLast = num(ctx.flags['keep-last'])
    const keepDaily = num(ctx.flags['keep-daily'])
    const keepWeekly = num(ctx.flags['keep-weekly'])
    if (keepLast === undefined && keepDaily === undefined && keepWeekly === undefined) {
      throw new UsageError(
        'prune needs a policy: --keep-last N, --keep-daily N and/or --keep-weekly N',
      )
    }
    for (const [flag, n] of [
      ['keep-last', keepLast],
      ['keep-daily', keepDaily],
      ['keep-weekly', keepWeekly],
    ] as const)
      if (n !== undefined && !(Number.isInteger(n) && n >= 1))
        throw new UsageError(
          `--${flag}: ${n} is not a count of snapshots to keep (a whole number, at least 1)`,
        )
    const r = await prune({
      ...repo(ctx, ctx.positionals[0] as string),
      keepLast,
      keepDaily,
      keepWeekly,
      dryRun: bool(ctx.flags['dry-run']),
    })
    if (bool(ctx.flags.json)) ctx.out(JSON.stringify(r))
    else
      ctx.out(
        `kept ${count(r.kept.length, 'snapshot')}, removed ${r.removed.length}, deleted ${count(r.blobsDeleted, 'blob')}`,
      )
    return 0
  },
}
