/**
 * Starts a real s3rver (an S3-compatible server) in a child process on a free
 * port, for tests and benches. Runs it with `--openssl-legacy-provider`: without
 * it s3rver answers HTTP 500 to listings past 1,000 keys on Node 20.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A running s3rver. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  port: number
  /** Buckets created at start. */
  buckets: string[]
  /** Static credentials s3rver accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** Where the objects live on disk. */
  directory: string
  /** Kills the server and removes its data. */
  stop(): Promise<void>
}

/** Options of {@link startS3rver}. */
export interface S3rverOptions {
  /** Buckets to create (names ≥ 3 characters; default `['skein-test']`). */
  buckets: string[]
}

const require = createRequire(import.meta.url)

/** Starts s3rver on 127.0.0.1, port 0, with fresh storage. */
export async function startS3rver(options: Partial<S3rverOptions> = {}): Promise<S3rverHandle> {
  const buckets = options.buckets ?? ['skein-test']
  const directory = await mkdtemp(join(tmpdir(), 'skein-s3rver-'))
  const script = `
    const S3rver = require(${JSON.stringify(require.resolve('s3rver'))});
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)},
      configureBuckets: ${JSON.stringify(buckets.map((name) => ({ name })))} })
      .run().then((a) => process.stdout.write(JSON.stringify(a) + '\\n'),
        (e) => { console.error(e); process.exit(1) });
  `
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port)
    })
    child.once('exit', (code) =>
      reject(new Error(`s3rver exited with code ${code} before listening: ${stderr}`)),
    )
  })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    buckets,
    directory,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/** The part of an S3 client the counter needs (an `S3Provider`'s `client`). */
interface MiddlewareHost {
  middlewareStack: {
    add(
      mw: (
        next: (args: { input: object }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: object }) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void
  }
}

/**
 * Counts the commands an S3 client sends, by name (`UploadPartCommand`, …);
 * SDK-internal retries of one send count once. `before` runs ahead of each command (to log its input,
 * or to hold it back for fault injection).
 */
export function countS3Commands(
  client: MiddlewareHost,
  before?: (name: string, input: Record<string, unknown>) => void | Promise<void>,
): Record<string, number> {
  const calls: Record<string, number> = {}
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown'
      calls[name] = (calls[name] ?? 0) + 1
      await before?.(name, args.input as Record<string, unknown>)
      return next(args)
    },
    { step: 'initialize', name: `countCommands${Math.random()}` },
  )
  return calls
}
