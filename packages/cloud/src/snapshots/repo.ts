import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { SkeinError } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import type { ByteStream, CloudSyncProvider, ObjectInfo } from '../provider.js'
import { withRetry } from '../retry.js'
import { bytesStream, readAll, verifyStream } from '../streams.js'
import { blobName, decrypt, deriveKey, encrypt, newKdfParams } from './crypto.js'
import type { KdfParams } from './crypto.js'
import type { SnapshotInfo, SnapshotManifest, SnapshotStoreOptions } from './types.js'

interface RepoConfig {
  version: 1
  encryption?: { kdf: 'scrypt'; params: KdfParams; check: string }
}

const CHECK = 'skein-snapshot-repository'

/**
 * A snapshot repository on a provider: `config.json`, `snapshots/<id>.json`,
 * the `snapshots/LATEST` pointer, content-addressed `blobs/<xx>/<name>` and
 * `locks/`. Hides encryption.
 */
export class SnapshotRepo {
  private constructor(
    readonly provider: CloudSyncProvider,
    readonly prefix: string,
    private readonly key: Buffer | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Opens (creating on first use when `create`) the repository. Wrong passphrase → `NOT_AUTHORIZED`. */
  static async open(o: SnapshotStoreOptions, create: boolean): Promise<SnapshotRepo> {
    const prefix = o.prefix ?? ''
    const where = `${o.provider.name}${prefix ? ' ' + prefix : ''}`
    const raw = await getBytes(o.provider, prefix + 'config.json', o.signal)
    let config: RepoConfig
    if (raw) config = JSON.parse(raw.toString('utf8')) as RepoConfig
    else {
      if (!create)
        throw new SkeinError('NOT_FOUND', `No snapshot repository at ${where}; run a backup first.`)
      config = { version: 1 }
      if (o.passphrase !== undefined) {
        const params = newKdfParams()
        const key = await deriveKey(o.passphrase, params)
        config.encryption = {
          kdf: 'scrypt',
          params,
          check: encrypt(key, Buffer.from(CHECK), 'check').toString('base64'),
        }
      }
      await putBytes(
        o.provider,
        prefix + 'config.json',
        Buffer.from(JSON.stringify(config)),
        o.signal,
      )
    }
    if (!config.encryption) {
      if (o.passphrase !== undefined)
        throw new SkeinError(
          'INVALID_INPUT',
          `The snapshot repository at ${where} is not encrypted; omit the passphrase, or back up to a new location to encrypt.`,
        )
      return new SnapshotRepo(o.provider, prefix, undefined, o.signal)
    }
    if (o.passphrase === undefined)
      throw new SkeinError(
        'NOT_AUTHORIZED',
        `The snapshot repository at ${where} is encrypted; give its passphrase (CLI: --passphrase, or the SKEIN_PASSPHRASE environment variable).`,
      )
    const key = await deriveKey(o.passphrase, config.encryption.params)
    try {
      decrypt(key, Buffer.from(config.encryption.check, 'base64'), 'check', 'check')
    } catch {
      throw new SkeinError(
        'NOT_AUTHORIZED',
        `Wrong passphrase for the snapshot repository at ${where}; check the passphrase (nothing was read or changed).`,
      )
    }
    return new SnapshotRepo(o.provider, prefix, key, o.signal)
  }

  get encrypted(): boolean {
    return this.key !== undefined
  }

  /** Key of the blob holding content `sha256`. */
  blobKey(sha256: string): string {
    const name = blobName(sha256, this.key)
    return `${this.prefix}blobs/${name.slice(0, 2)}/${name}`
  }

  async hasBlob(sha256: string): Promise<boolean> {
    return (
      (await withRetry(() => this.provider.head(this.blobKey(sha256), { signal: this.signal }), {
        signal: this.signal,
      })) !== undefined
    )
  }

  /** Stores a blob; `open` returns a fresh stream of the content for each attempt. */
  async putBlob(
    sha256: string,
    size: number,
    mtime: number,
    open: () => ByteStream,
  ): Promise<void> {
    const key = this.blobKey(sha256)
    await withRetry(
      async () => {
        if (!this.key)
          return void (await this.provider.upload(
            key,
            open(),
            { size, sha256, mtime },
            { signal: this.signal },
          ))
        const plain = await readAll(open())
        if (sha256HexSync(plain) !== sha256)
          throw new SkeinError(
            'HASH_MISMATCH',
            `A file changed while being backed up (content ${sha256.slice(0, 12)}…); run the backup again.`,
          )
        const enc = encrypt(this.key, plain, 'blob')
        await this.provider.upload(
          key,
          bytesStream(enc),
          { size: enc.length, sha256: sha256HexSync(enc), mtime },
          { signal: this.signal },
        )
      },
      { signal: this.signal },
    )
  }

  /** The plaintext stream of blob `sha256` (unverified: callers hash it), or undefined when missing. */
  async getBlob(sha256: string): Promise<ByteStream | undefined> {
    return withRetry(
      async () => {
        const d = await this.provider.download(this.blobKey(sha256), { signal: this.signal })
        if (!d) return undefined
        if (!this.key) return d.body
        return bytesStream(
          decrypt(this.key, await readAll(d.body), 'blob', `Blob ${sha256.slice(0, 12)}…`),
        )
      },
      { signal: this.signal },
    )
  }

  /** The set of every stored blob key (one listing). */
  async storedBlobKeys(): Promise<Set<string>> {
    return new Set(await this.blobKeys())
  }

  /** Every stored blob key. */
  async blobKeys(): Promise<string[]> {
    return (await this.listAll(this.prefix + 'blobs/')).map((o) => o.key)
  }

  /** One whole listing, retried as a unit (a listing cut short is started again). */
  private listAll(prefix: string): Promise<ObjectInfo[]> {
    return withRetry(
      async () => {
        const out: ObjectInfo[] = []
        for await (const o of this.provider.list(prefix, { signal: this.signal })) out.push(o)
        return out
      },
      { signal: this.signal },
    )
  }

  /** Deletes one object, retried. */
  async deleteKey(key: string): Promise<void> {
    await withRetry(() => this.provider.delete(key, { signal: this.signal }), {
      signal: this.signal,
    })
  }

  async putManifest(m: SnapshotManifest): Promise<void> {
    const plain = Buffer.from(JSON.stringify(m))
    await putBytes(
      this.provider,
      this.manifestKey(m.id),
      this.key ? encrypt(this.key, plain, 'manifest') : plain,
      this.signal,
    )
  }

  async readManifest(id: string): Promise<SnapshotManifest> {
    const m = await this.findManifest(id)
    if (!m)
      throw new SkeinError(
        'NOT_FOUND',
        `Snapshot ${id} does not exist in ${this.provider.name}; list snapshots to see which exist.`,
      )
    return m
  }

  /** The manifest of snapshot `id` read by key, or undefined when it does not exist. */
  async findManifest(id: string): Promise<SnapshotManifest | undefined> {
    const raw = await getBytes(this.provider, this.manifestKey(id), this.signal)
    if (!raw) return undefined
    const plain = this.key ? decrypt(this.key, raw, 'manifest', `Snapshot ${id}`) : raw
    return JSON.parse(plain.toString('utf8')) as SnapshotManifest
  }

  /** True when snapshot `id`'s manifest exists, asked by key (HEAD), never from a listing. */
  async hasManifest(id: string): Promise<boolean> {
    const key = this.manifestKey(id)
    return (
      (await withRetry(() => this.provider.head(key, { signal: this.signal }), {
        signal: this.signal,
      })) !== undefined
    )
  }

  async deleteManifest(id: string): Promise<void> {
    await this.deleteKey(this.manifestKey(id))
  }

  private manifestKey(id: string): string {
    return `${this.prefix}snapshots/${id}.json`
  }

  /**
   * The snapshot id the `snapshots/LATEST` pointer names, read by key, or undefined when
   * there is no pointer (a repository written before it existed).
   *
   * Why: a listing may leave objects out (eventually consistent or faulty), but a read by
   * key does not. Every backup points LATEST at its snapshot after writing the manifest,
   * so prune can tell that a listing without that snapshot is incomplete instead of
   * deleting the blobs only that snapshot uses. The pointer is plaintext even in an
   * encrypted repository: it holds nothing but an id, which manifest keys show anyway.
   */
  async latestId(): Promise<string | undefined> {
    const raw = await getBytes(this.provider, this.latestKey, this.signal)
    if (!raw) return undefined
    let id: unknown
    try {
      id = (JSON.parse(raw.toString('utf8')) as { id?: unknown }).id
    } catch {
      id = undefined
    }
    if (typeof id !== 'string' || !/^[\w.-]+$/.test(id))
      throw new SkeinError(
        'CORRUPT',
        `The snapshot pointer ${this.latestKey} on ${this.provider.name} is damaged; delete it (the next backup writes it again) and retry.`,
      )
    return id
  }

  /**
   * Points `snapshots/LATEST` at snapshot `id`, unless it already names a newer one (two
   * backups finishing together: ids sort by time, so the newer id wins either order, bar
   * the small window between this read and write).
   */
  async putLatest(id: string, time: number): Promise<void> {
    const current = await this.latestId().catch(() => undefined) // a damaged pointer is replaced
    if (current !== undefined && current > id) return
    await putBytes(
      this.provider,
      this.latestKey,
      Buffer.from(JSON.stringify({ version: 1, id, time })),
      this.signal,
    )
  }

  private get latestKey(): string {
    return `${this.prefix}snapshots/LATEST`
  }

  /** Snapshot ids, oldest first (ids sort by time). */
  async snapshotIds(): Promise<string[]> {
    const ids: string[] = []
    const base = this.prefix + 'snapshots/'
    for (const o of await this.listAll(base))
      if (o.key.endsWith('.json')) ids.push(o.key.slice(base.length, -5))
    return ids.sort()
  }

  /** Writes a lock object; returns its key. */
  async lock(kind: 'backup' | 'prune'): Promise<string> {
    const key = `${this.prefix}locks/${kind}-${randomUUID()}.json`
    await putBytes(
      this.provider,
      key,
      Buffer.from(JSON.stringify({ kind, time: Date.now(), host: hostname(), pid: process.pid })),
      this.signal,
    )
    return key
  }

  /** Live locks (younger than `staleMs`) other than `own`. */
  async otherLocks(own: string, staleMs: number): Promise<{ key: string; kind: string }[]> {
    const out: { key: string; kind: string }[] = []
    for (const o of await this.listAll(this.prefix + 'locks/')) {
      if (o.key === own) continue
      const raw = await getBytes(this.provider, o.key, this.signal)
      if (!raw) continue
      const l = JSON.parse(raw.toString('utf8')) as { kind: string; time: number }
      if (Date.now() - l.time < staleMs) out.push({ key: o.key, kind: l.kind })
    }
    return out
  }

  async unlock(key: string): Promise<void> {
    await this.deleteKey(key).catch(() => undefined) // a stale lock expires anyway
  }
}

/** A manifest's summary. */
export function infoOf(m: SnapshotManifest): SnapshotInfo {
  return {
    id: m.id,
    time: m.time,
    label: m.label,
    fileCount: m.files.length,
    totalSize: m.files.reduce((n, f) => n + f.size, 0),
  }
}

async function getBytes(
  p: CloudSyncProvider,
  key: string,
  signal?: AbortSignal,
): Promise<Buffer | undefined> {
  return withRetry(
    async () => {
      const d = await p.download(key, { signal })
      if (!d) return undefined
      // Checked against the stored size (and sha-256): a download cut short or damaged on the
      // way is retried, never parsed as a config, manifest or lock.
      const { size, sha256 } = d.info
      const what = `${key} on ${p.name}`
      if (sha256 !== undefined) return readAll(verifyStream(d.body, { size, sha256 }, what))
      const bytes = await readAll(d.body)
      if (bytes.length !== size)
        throw new SkeinError(
          'HASH_MISMATCH',
          `Download of ${what} was cut short (${bytes.length} of ${size} bytes); retry.`,
          { retryable: true },
        )
      return bytes
    },
    { signal },
  )
}

async function putBytes(
  p: CloudSyncProvider,
  key: string,
  bytes: Buffer,
  signal?: AbortSignal,
): Promise<void> {
  await withRetry(
    () =>
      p.upload(
        key,
        bytesStream(bytes),
        { size: bytes.length, sha256: sha256HexSync(bytes), mtime: Date.now() },
        { signal },
      ),
    { signal },
  )
}
