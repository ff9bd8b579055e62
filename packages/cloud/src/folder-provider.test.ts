import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256HexSync } from '@skein/core/node'
import { FolderProvider } from './folder-provider.js'
import { bytesStream } from './streams.js'
import { runProviderContractTests } from './testing/contract.js'

const dirs: string[] = []
runProviderContractTests('FolderProvider', {
  create: async () => {
    const d = await mkdtemp(join(tmpdir(), 'skein-folder-'))
    dirs.push(d)
    return new FolderProvider(d, { fsync: 'none' })
  },
  destroy: async () =>
    void (await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))),
  largeSize: 3 * 1024 * 1024,
})

describe('FolderProvider specifics', () => {
  it('FP1 stores keys as plain files, keeps the mtime, and hashes files put there by others', async () => {
    const d = await mkdtemp(join(tmpdir(), 'skein-folder-'))
    const p = new FolderProvider(d)
    const b = Buffer.from('note')
    await p.upload('a/b.md', bytesStream(b), {
      size: 4,
      sha256: sha256HexSync(b),
      mtime: 1_600_000_000_000,
    })
    expect(await readFile(join(d, 'a/b.md'), 'utf8')).toBe('note')
    await writeFile(join(d, 'foreign.md'), 'from elsewhere')
    const h = await new FolderProvider(d).head('foreign.md')
    expect(h?.sha256).toBe(sha256HexSync('from elsewhere'))
    // A second instance sees the first one's index.
    expect((await new FolderProvider(d).head('a/b.md'))?.mtime).toBe(1_600_000_000_000)
    // An edit behind the index's back is detected (size changes) and re-hashed.
    await writeFile(join(d, 'a/b.md'), 'note, edited')
    expect((await p.head('a/b.md'))?.sha256).toBe(sha256HexSync('note, edited'))
    await rm(d, { recursive: true, force: true })
  })

  it('FP2 refuses keys that are not normalized relative paths', async () => {
    const p = new FolderProvider(await mkdtemp(join(tmpdir(), 'skein-folder-')))
    for (const k of ['../escape', '/abs', 'a//b', '.skein-provider/index.jsonl'])
      await expect(p.head(k)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})
