/**
 * A {@link BlobStore} on the filesystem: `<root>/<workspace>/<hh>/<sha256>`.
 * Uploads stream into a temp file in the same folder while hashing, are fsynced,
 * and are renamed into place only when the hash matches.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { SkeinError } from '@skein/core'
import type { BlobBody, BlobInfo, BlobStore, ContentHash } from '@skein/core'

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const HASH = /^[0-9a-f]{64}$/

/** Content-addressed blobs in a folder. */
export class FsBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private path(workspace: string, hash: string): string {
    if (!SAFE.test(workspace) || !HASH.test(hash)) {
      throw new SkeinError(
        'INVALID_INPUT',
        `Invalid blob address ${workspace}/${hash}: expected a workspace id and a sha-256 hex hash.`,
      )
    }
    return join(this.root, workspace, hash.slice(0, 2), hash)
  }

  async head(workspace: string, hash: ContentHash): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.path(workspace, hash))
      return { size: s.size }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async get(workspace: string, hash: ContentHash): Promise<BlobBody | undefined> {
    const info = await this.head(workspace, hash)
    if (!info) return undefined
    return {
      size: info.size,
      body: createReadStream(this.path(workspace, hash), { highWaterMark: 1 << 20 }),
    }
  }

  async put(
    workspace: string,
    hash: ContentHash,
    body: AsyncIterable<Uint8Array>,
  ): Promise<BlobInfo> {
    const final = this.path(workspace, hash)
    const dir = join(this.root, workspace, hash.slice(0, 2))
    await mkdir(dir, { recursive: true })
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`)
    const fh = await open(tmp, 'wx')
    const h = createHash('sha256')
    let size = 0
    let ok = false
    try {
      for await (const chunk of body) {
        h.update(chunk)
        size += chunk.length
        await fh.write(chunk)
      }
      await fh.sync()
      await fh.close()
      const actual = h.digest('hex')
      if (actual !== hash) {
        throw new SkeinError(
          'HASH_MISMATCH',
          `Blob upload for ${workspace}/${hash} has sha-256 ${actual}: re-read the file and upload it again.`,
        )
      }
      await rename(tmp, final)
      ok = true
      return { size }
    } finally {
      if (!ok) {
        await fh.close().catch(() => undefined)
        await unlink(tmp).catch(() => undefined)
      }
    }
  }

  async delete(workspace: string, hash: ContentHash): Promise<boolean> {
    try {
      await unlink(this.path(workspace, hash))
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw err
    }
  }
}
