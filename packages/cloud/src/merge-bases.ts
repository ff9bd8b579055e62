import { copyFile, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isText } from '@skein/merge'
import { isNotFound, tempName } from './fs-utils.js'

/**
 * The last synced version of each text file, content-addressed under
 * `<state>/bases/<sha256>`: the common ancestor that merge3 needs when both
 * sides edited a note. Kept only with `autoMerge`, for files up to `maxBytes`.
 */
export class MergeBases {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Keeps a copy of the synced file at `absPath` (content `sha256`) if it is small text. */
  async remember(absPath: string, sha256: string, size: number): Promise<void> {
    if (size > this.maxBytes) return
    const dest = join(this.dir, sha256)
    if (await this.get(sha256)) return
    await mkdir(this.dir, { recursive: true })
    const tmp = tempName(this.dir, 'base')
    try {
      await copyFile(absPath, tmp)
      if (!isText(await readFile(tmp))) return
      await rename(tmp, dest)
    } finally {
      await rm(tmp, { force: true })
    }
  }

  /** The stored base with content `sha256`, if kept. */
  async get(sha256: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.dir, sha256))
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  /** Drops bases no longer referenced. */
  async gc(keep: ReadonlySet<string>): Promise<void> {
    let names: string[] = []
    try {
      names = await readdir(this.dir)
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    await Promise.all(
      names.filter((n) => !keep.has(n)).map((n) => rm(join(this.dir, n), { force: true })),
    )
  }
}
