import { SyncEngine, type CompareMode, type KeepMode, type SyncMode } from '@skein/cloud'
import { bool, num, str, type Command } from '../command.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { progressPrinter } from '../progress.js'
import { openProvider } from '../provider-url.js'
import { count } from '../plural.js'

const s3Flags = {
  endpoint: {
    type: 'string',
    desc: 'S3 endpoint URL (MinIO, s3rver, …)',
    env: 'SKEIN_S3_ENDPOINT',
    config: 'endpoint',
  },
  region: { type: 'string', desc: 'S3 region', env: 'SKEIN_S3_REGION', config: 'region' },
} as const

/** Shared S3 flags of the cloud commands. */
export const S3_FLAGS = s3Flags

export const cloudSync: Command = {
  spec: {
    name: 'cloud sync',
    summary:
      'Sync a folder with a cloud target (folder path, file:// or s3://) using the verified sync engine.',
    positionals: [
      { name: 'DIR', required: true, desc: 'local folder' },
      { name: 'URL', required: true, desc: 'target: /path, file:///path or s3://bucket/prefix' },
    ],
    flags: {
      mode: {
        type: 'string',
        choices: ['copy', 'mirror', 'move', 'two-way'],
        desc: 'what to do',
        default: 'two-way',
        env: 'SKEIN_MODE',
        config: 'mode',
      },
      direction: {
        type: 'string',
        choices: ['up', 'down'],
        desc: 'direction of one-way modes',
        default: 'up',
      },
      compare: {
        type: 'string',
        desc: 'comma list of size,modtime,checksum',
        default: 'size,modtime',
        env: 'SKEIN_COMPARE',
        config: 'compare',
      },
      keep: {
        type: 'string',
        choices: ['newer', 'older', 'larger', 'smaller', 'path1', 'path2'],
        desc: 'which side wins a conflict',
        default: 'newer',
        env: 'SKEIN_KEEP',
        config: 'keep',
      },
      'auto-merge': {
        type: 'boolean',
        desc: 'merge text conflicts three-way when clean (the common version is kept by syncs run with this flag: use it from the first sync)',
      },
      'dry-run': { type: 'boolean', desc: 'show what would happen, change nothing' },
      'max-delete': {
        type: 'percent',
        desc: 'refuse a run deleting more than this share of either side',
        default: '50',
        env: 'SKEIN_MAX_DELETE',
        config: 'maxDelete',
      },
      force: { type: 'boolean', desc: 'run even if the max-delete guard trips' },
      'list-remote': {
        type: 'boolean',
        desc: 'list the remote instead of trusting its index (done anyway once a day): finds files changed there outside Skein',
      },
      concurrency: { type: 'number', desc: 'parallel transfers', default: 8 },
      json: { type: 'boolean', desc: 'print the result as JSON' },
      ...s3Flags,
    },
  },
  configDir: (p) => p[0],
  async run(ctx) {
    const [dir, url] = ctx.positionals as [string, string]
    const compare = (str(ctx.flags.compare) ?? '').split(',').filter(Boolean)
    for (const c of compare)
      if (!['size', 'modtime', 'checksum'].includes(c))
        throw new UsageError(`--compare: "${c}" is not one of size, modtime, checksum`)
    const { provider } = openProvider(
      url,
      { endpoint: str(ctx.flags.endpoint), region: str(ctx.flags.region) },
      ctx.env,
    )
    const engine = new SyncEngine({
      local: dir,
      provider,
      mode: str(ctx.flags.mode) as SyncMode,
      direction: str(ctx.flags.direction) as 'up' | 'down',
      compare: compare as CompareMode[],
      keep: str(ctx.flags.keep) as KeepMode,
      autoMerge: bool(ctx.flags['auto-merge']),
      maxDeletePercent: num(ctx.flags['max-delete']) ?? 50,
      force: bool(ctx.flags.force),
      ...(bool(ctx.flags['list-remote']) ? { remoteIndexMaxAgeMs: 0 } : {}),
      concurrency: Math.max(1, num(ctx.flags.concurrency) ?? 8),
    })
    const json = bool(ctx.flags.json)
    const bar = progressPrinter(ctx.tty && !json, (s) => process.stderr.write(s))
    const result = await engine.sync({
      dryRun: bool(ctx.flags['dry-run']),
      signal: ctx.signal,
      onProgress: json ? undefined : (p) => bar.update(p),
    })
    bar.done()
    if (json) ctx.out(JSON.stringify(result))
    else {
      ctx.out(
        `${result.dryRun ? 'dry run: ' : ''}${result.filesUploaded} uploaded, ${result.filesDownloaded} downloaded, ${result.filesDeleted} deleted, ${count(result.bytes, 'byte')}, ${count(result.conflicts.length, 'conflict')}, ${count(result.errors.length, 'error')}`,
      )
      for (const op of result.dryRun ? result.operations : []) ctx.out(`  ${op}`)
      for (const c of result.conflicts)
        ctx.out(
          `  conflict: ${c.path}: ${c.resolution}${c.copyPath ? ` (other side kept as ${c.copyPath})` : ''}`,
        )
      for (const e of result.errors) ctx.err(`  error: ${e.path}: ${e.message}`)
      for (const w of result.warnings) ctx.err(`  warning: ${w}`)
    }
    if (!result.success || result.errors.length) return EXIT.FAILURE
    // Conflicts that resolved themselves (identical content, clean merge) are not reported as conflicts.
    const real = result.conflicts.filter(
      (c) => c.resolution !== 'identical' && c.resolution !== 'merged',
    )
    return real.length ? EXIT.CONFLICTS : EXIT.OK
  },
}
