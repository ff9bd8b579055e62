import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { SkeinError, createConsoleLogger } from '@skein/core'
import { DEFAULT_SYNC_SERVER_OPTIONS, FsBlobStore, SyncServer } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { bool, num, str, type Command } from '../command.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { UsageError } from '../exit-codes.js'
import { webHandler } from '../web.js'
import { openProvider } from '../provider-url.js'
import { backupAllWorkspaces } from '../server-backup.js'
import { count } from '../plural.js'

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/

/** Creates the server's data folder (and `sub` in it); a clear error when `data` is a file or cannot be made. */
export function ensureDataDir(data: string, sub?: string): void {
  if (existsSync(data) && !statSync(data).isDirectory())
    throw new UsageError(
      `--data: ${data} is a file; give a folder for the server's data (created if missing)`,
    )
  try {
    mkdirSync(sub ? join(data, sub) : data, { recursive: true })
  } catch (err) {
    throw new SkeinError(
      'IO',
      `Cannot create the data folder ${data} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path and its permissions, or give another with --data.`,
      { cause: err },
    )
  }
}

/**
 * Reads the HMAC secret from a file, or creates one (0600) under the data dir;
 * `onCreated` hears of a new one.
 */
export function loadSecret(
  secretFile: string | undefined,
  dataDir: string,
  onCreated?: (path: string) => void,
): string {
  const path = secretFile ? resolve(secretFile) : join(dataDir, 'secret')
  if (existsSync(path)) {
    const secret = readFileSync(path, 'utf8').trim()
    if (secret.length < 16)
      throw new UsageError(`${path}: the secret must be at least 16 characters`)
    return secret
  }
  if (secretFile)
    throw new UsageError(
      `--secret-file ${secretFile}: no such file; create it with a long random string`,
    )
  ensureDataDir(dataDir)
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(path, secret + '\n', { mode: 0o600 })
  chmodSync(path, 0o600)
  onCreated?.(path)
  return secret
}

/** A running server with its store, for `serve` and `start`. */
export async function startServer(opts: {
  host: string
  port: number
  data: string
  auth: 'open' | 'token'
  secretFile?: string
  web?: (req: IncomingMessage, res: ServerResponse) => boolean
  quiet?: boolean
  /** `SyncServerOptions.writeIntervalMs`; the server's default when absent. */
  writeIntervalMs?: number
}) {
  if (opts.auth === 'open' && !LOOPBACK.test(opts.host)) {
    throw new UsageError(
      `--auth open is refused on non-loopback host ${opts.host}: anyone on the network could read and write; use --auth token`,
    )
  }
  const data = resolve(opts.data)
  ensureDataDir(data, 'blobs')
  const store = new LevelDocStore(join(data, 'db'))
  const auth =
    opts.auth === 'open'
      ? ({ mode: 'open' } as const)
      : ({ mode: 'token', secret: loadSecret(opts.secretFile, data) } as const)
  const blobs = new FsBlobStore(join(data, 'blobs'))
  const server = new SyncServer({
    host: opts.host,
    port: opts.port,
    auth,
    store,
    blobs,
    ...(opts.web ? { httpFallback: opts.web } : {}),
    ...(opts.quiet ? {} : { logger: createConsoleLogger({ level: 'warn' }) }),
    ...(opts.writeIntervalMs !== undefined ? { writeIntervalMs: opts.writeIntervalMs } : {}),
  })
  try {
    await server.listen()
  } catch (e) {
    await store.close().catch(() => undefined)
    throw e
  }
  return {
    server,
    store,
    blobs,
    data,
    url: `ws://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${server.port}`,
  }
}

/** Longest accepted `--write-interval`: past it, clients would see edits visibly late. */
const MAX_WRITE_INTERVAL_MS = 1000
/** The server's own default, so the flag's help and errors cannot drift from it. */
const DEFAULT_WRITE_INTERVAL = `${DEFAULT_SYNC_SERVER_OPTIONS.writeIntervalMs}ms`

export const serve: Command = {
  spec: {
    name: 'serve',
    summary:
      'Run the Skein sync server with LevelDB and a blob folder under --data. Prints "listening on ws://HOST:PORT".',
    positionals: [],
    flags: {
      host: {
        type: 'string',
        desc: 'interface to bind',
        default: '127.0.0.1',
        env: 'SKEIN_HOST',
        config: 'host',
      },
      port: {
        type: 'number',
        desc: 'TCP port (0 = any free port)',
        default: 4321,
        env: 'SKEIN_PORT',
        config: 'port',
      },
      data: {
        type: 'string',
        desc: 'data directory (LevelDB, blobs, secret)',
        default: '.skein-data',
        env: 'SKEIN_DATA',
        config: 'data',
      },
      auth: {
        type: 'string',
        choices: ['open', 'token'],
        desc: 'open (loopback only) or signed tokens',
        default: 'open',
        env: 'SKEIN_AUTH',
        config: 'auth',
      },
      'secret-file': {
        type: 'string',
        desc: 'file holding the token-signing secret (default: <data>/secret, created if missing)',
        env: 'SKEIN_SECRET_FILE',
        config: 'secretFile',
      },
      'backup-to': {
        type: 'string',
        desc: 'take snapshots of every workspace to this URL (file path or s3://bucket/prefix)',
        env: 'SKEIN_BACKUP_TO',
        config: 'backupTo',
      },
      'backup-every': {
        type: 'duration',
        desc: 'snapshot interval with --backup-to',
        default: '15m',
        env: 'SKEIN_BACKUP_EVERY',
        config: 'backupEvery',
      },
      'write-interval': {
        type: 'duration',
        desc: 'least time between two writes of broadcasts to one client (0ms: every update at once, lowest latency, most CPU)',
        default: DEFAULT_WRITE_INTERVAL,
        env: 'SKEIN_WRITE_INTERVAL',
        config: 'writeInterval',
      },
      web: { type: 'boolean', desc: 'serve the browser editor at / (when built)' },
      quiet: { type: 'boolean', desc: 'only print the listening line and errors' },
    },
  },
  async run(ctx) {
    const port = num(ctx.flags.port) ?? 4321
    if (!Number.isInteger(port) || port > 65535)
      throw new UsageError(`--port: ${port} is not a TCP port (0-65535)`)
    const writeIntervalMs = num(ctx.flags['write-interval'])
    if (writeIntervalMs !== undefined && writeIntervalMs > MAX_WRITE_INTERVAL_MS)
      throw new UsageError(
        `--write-interval: ${writeIntervalMs} ms would hold every edit that long before other clients see it; use at most ${MAX_WRITE_INTERVAL_MS}ms (default ${DEFAULT_WRITE_INTERVAL})`,
      )
    const backupTo = str(ctx.flags['backup-to'])
    let web: ReturnType<typeof webHandler> | undefined
    if (bool(ctx.flags.web)) {
      web = webHandler({ build: true, log: (l) => ctx.err(l) })
      if (typeof web === 'string') throw new SkeinError('UNSUPPORTED', `--web: ${web}`)
    }
    const { server, store, blobs, data, url } = await startServer({
      host: str(ctx.flags.host) ?? '127.0.0.1',
      port,
      data: str(ctx.flags.data) ?? '.skein-data',
      auth: (str(ctx.flags.auth) ?? 'open') as 'open' | 'token',
      secretFile: str(ctx.flags['secret-file']),
      quiet: bool(ctx.flags.quiet),
      ...(writeIntervalMs !== undefined ? { writeIntervalMs } : {}),
      ...(typeof web === 'function' ? { web } : {}),
    })
    ctx.out(`listening on ${url}`)
    if (web) ctx.err(`web editor: ${url.replace(/^ws/, 'http')}/`)
    let timer: NodeJS.Timeout | undefined
    let running: Promise<void> | undefined
    if (backupTo) {
      // One repository per workspace, <URL>/<workspace>: usable with skein snapshots/restore as is.
      const providerFor = (w: string) =>
        openProvider(`${backupTo.replace(/\/+$/, '')}/${w}`, {}, ctx.env).provider
      const every = num(ctx.flags['backup-every']) ?? 15 * 60_000
      const logger = createConsoleLogger({ level: 'warn' })
      const runOnce = () => {
        running ??= backupAllWorkspaces({
          store,
          blobs,
          providerFor,
          target: backupTo,
          stageRoot: join(data, 'backup-stage'),
          logger,
        })
          .then((rs) => {
            // a workspace with nothing new since its last snapshot takes none, and says nothing
            for (const r of rs)
              if (r.outcome === 'snapshot')
                ctx.err(
                  `backup: ${r.workspace}: snapshot ${r.snapshot} (${count(r.files, 'file')})`,
                )
              else if (r.outcome === 'failed')
                ctx.err(
                  `backup: ${r.workspace} failed: ${r.error}; will retry at the next interval`,
                )
          })
          .catch((e: unknown) =>
            ctx.err(`backup failed: ${(e as Error).message}; will retry at the next interval`),
          )
          .finally(() => (running = undefined))
        return running
      }
      timer = setInterval(() => void runOnce(), every)
      ctx.err(`backing up every workspace to ${backupTo} every ${Math.round(every / 1000)} s`)
    }
    await new Promise<void>((resolveWait) =>
      ctx.signal.addEventListener('abort', () => resolveWait(), { once: true }),
    )
    ctx.err('skein: shutting down')
    clearInterval(timer)
    await running
    await server.close()
    return 0
  },
}
