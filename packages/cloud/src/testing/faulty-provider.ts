import { SkeinError } from '@skein/core'
import { createRng } from '@skein/core/testing'
import type { Rng } from '@skein/core/testing'
import type {
  ByteStream,
  CallOptions,
  CloudSyncProvider,
  Download,
  ObjectInfo,
  UploadCheckpoint,
  UploadMeta,
  UploadOptions,
} from '../provider.js'

/** A fault the wrapper can inject. */
export type FaultKind = 'server-error' | 'throttle' | 'timeout' | 'truncate' | 'corrupt' | 'slow'
type Op = 'list' | 'head' | 'download' | 'upload' | 'delete'

/** When and what to inject. */
export interface FaultPlan {
  /** Probability that a call gets a random fault (default 0: only queued faults). */
  rate: number
  /** Kinds drawn at random (default: every kind but `slow`). */
  kinds: FaultKind[]
  /** Seed of the random draws (default 1). */
  seed: number
  /** Delay of `timeout` and `slow` faults in ms (default 20). */
  delayMs: number
}

/** Defaults for {@link FaultyProvider}. */
export const DEFAULT_FAULT_PLAN: FaultPlan = {
  rate: 0,
  kinds: ['server-error', 'throttle', 'timeout', 'truncate', 'corrupt'],
  seed: 1,
  delayMs: 20,
}

/**
 * Wraps a real provider and injects failures: 5xx-like and throttling errors,
 * timeouts, truncated and corrupted downloads. The real provider does the real
 * work; only the faults are fake.
 */
export class FaultyProvider implements CloudSyncProvider {
  readonly name: string
  /** How many faults of each kind were injected. */
  readonly injected: Record<FaultKind, number> = {
    'server-error': 0,
    throttle: 0,
    timeout: 0,
    truncate: 0,
    corrupt: 0,
    slow: 0,
  }
  private readonly plan: FaultPlan
  private readonly rng: Rng
  private readonly queued: { op: Op; kind: FaultKind }[] = []
  private readonly hidden = new Set<string>()
  /** Passed through to the inner provider's resumable-upload capability, when it has one. */
  readonly abortUpload?: (checkpoint: UploadCheckpoint, options?: CallOptions) => Promise<void>

  constructor(
    readonly inner: CloudSyncProvider,
    plan: Partial<FaultPlan> = {},
  ) {
    this.plan = { ...DEFAULT_FAULT_PLAN, ...plan }
    this.rng = createRng(this.plan.seed)
    this.name = `faulty(${inner.name})`
    if (inner.abortUpload) this.abortUpload = (cp, o) => inner.abortUpload?.(cp, o) as Promise<void>
  }

  /** Makes the next `count` calls of `op` fail with `kind`. */
  inject(op: Op, kind: FaultKind, count = 1): this {
    for (let i = 0; i < count; i++) this.queued.push({ op, kind })
    return this
  }

  /** Makes listings leave out `keys` (an inconsistent or buggy listing); head and download still see them. */
  hideFromListing(keys: Iterable<string>): this {
    for (const k of keys) this.hidden.add(k)
    return this
  }

  private draw(op: Op): FaultKind | undefined {
    const i = this.queued.findIndex((q) => q.op === op)
    if (i >= 0) return this.queued.splice(i, 1)[0]?.kind
    if (this.plan.rate > 0 && this.rng.chance(this.plan.rate)) {
      const kinds = this.plan.kinds.filter(
        (k) => op === 'download' || (k !== 'truncate' && k !== 'corrupt'),
      )
      return kinds.length ? this.rng.pick(kinds) : undefined
    }
    return undefined
  }

  private async before(op: Op, key: string): Promise<FaultKind | undefined> {
    const kind = this.draw(op)
    if (!kind) return undefined
    this.injected[kind]++
    const where = `${op} ${key} on ${this.inner.name} (injected)`
    switch (kind) {
      case 'server-error':
        throw new SkeinError('TRANSIENT', `Server error (HTTP 500) during ${where}; retry later.`)
      case 'throttle':
        throw new SkeinError(
          'RATE_LIMITED',
          `Throttled (HTTP 503 SlowDown) during ${where}; retry with back-off.`,
        )
      case 'timeout':
        await new Promise((r) => setTimeout(r, this.plan.delayMs))
        throw new SkeinError('TRANSIENT', `Timed out during ${where}; retry.`)
      case 'slow':
        await new Promise((r) => setTimeout(r, this.plan.delayMs))
        return undefined
      default:
        return kind
    }
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    await this.before('list', prefix)
    for await (const o of this.inner.list(prefix, options)) if (!this.hidden.has(o.key)) yield o
  }

  async head(key: string, options?: CallOptions): Promise<ObjectInfo | undefined> {
    await this.before('head', key)
    return this.inner.head(key, options)
  }

  async download(key: string, options?: CallOptions): Promise<Download | undefined> {
    const kind = await this.before('download', key)
    const d = await this.inner.download(key, options)
    if (!d || !kind) return d
    return { info: d.info, body: damage(d.body, kind) }
  }

  async upload(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    options?: UploadOptions,
  ): Promise<ObjectInfo> {
    await this.before('upload', key)
    return this.inner.upload(key, body, meta, options)
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    await this.before('delete', key)
    return this.inner.delete(key, options)
  }

  async close(): Promise<void> {
    await this.inner.close?.()
  }
}

/** Truncates (drops the second half) or corrupts (flips a byte of) a stream. */
async function* damage(body: ByteStream, kind: FaultKind): AsyncGenerator<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of body) parts.push(c)
  const all = Buffer.concat(parts)
  if (kind === 'truncate') {
    yield all.subarray(0, Math.floor(all.length / 2))
    return
  }
  const copy = Buffer.from(all)
  if (copy.length) copy[copy.length >> 1] = (copy[copy.length >> 1] ?? 0) ^ 0xff
  else yield Buffer.from('x')
  yield copy
}
