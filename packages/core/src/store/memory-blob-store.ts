import { SkeinError } from '../errors.js'
import { sha256Hex } from '../hash.js'
import type { ContentHash } from '../ids.js'
import type { BlobBody, BlobInfo, BlobStore } from './blob-store.js'

/** A {@link BlobStore} in memory (buffers whole blobs: tests and small demos only). */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>()

  async head(workspace: string, hash: ContentHash): Promise<BlobInfo | undefined> {
    const b = this.blobs.get(`${workspace}/${hash}`)
    return b ? { size: b.length } : undefined
  }

  async get(workspace: string, hash: ContentHash): Promise<BlobBody | undefined> {
    const b = this.blobs.get(`${workspace}/${hash}`)
    if (!b) return undefined
    async function* body() {
      yield b!.slice()
    }
    return { size: b.length, body: body() }
  }

  async put(
    workspace: string,
    hash: ContentHash,
    body: AsyncIterable<Uint8Array>,
  ): Promise<BlobInfo> {
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const c of body) {
      chunks.push(c)
      size += c.length
    }
    const all = new Uint8Array(size)
    let at = 0
    for (const c of chunks) {
      all.set(c, at)
      at += c.length
    }
    const actual = await sha256Hex(all)
    if (actual !== hash) {
      throw new SkeinError(
        'HASH_MISMATCH',
        `Blob upload for ${workspace}/${hash} has sha-256 ${actual}: re-read the file and upload it again.`,
      )
    }
    this.blobs.set(`${workspace}/${hash}`, all)
    return { size }
  }

  async delete(workspace: string, hash: ContentHash): Promise<boolean> {
    return this.blobs.delete(`${workspace}/${hash}`)
  }
}
