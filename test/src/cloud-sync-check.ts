/** Shared assertions for cloud sync tests: both sides equal, and the manifest tells the truth. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { CloudSyncProvider } from '@skein/cloud'
import { sha256HexSync } from '@skein/core/node'
import { readTree } from './cloud-golden/runner.js'

/** Asserts local and remote hold the same files, and every manifest entry matches both sides. */
export async function expectConverged(local: string, provider: CloudSyncProvider): Promise<number> {
  const l = await readTree('local', local, provider)
  const r = await readTree('remote', local, provider)
  expect([...l.keys()].sort()).toEqual([...r.keys()].sort())
  for (const [k, v] of l) expect(sha256HexSync(v), k).toBe(sha256HexSync(r.get(k)!))
  const manifest = JSON.parse(
    await readFile(join(local, '.skein/cloud/manifest.json'), 'utf8'),
  ) as {
    entries: Record<string, { localHash: string; remoteHash: string }>
  }
  expect(Object.keys(manifest.entries).sort()).toEqual([...l.keys()].sort())
  for (const [path, e] of Object.entries(manifest.entries)) {
    expect(e.localHash, path).toBe(sha256HexSync(l.get(path)!))
    expect(e.remoteHash, path).toBe(sha256HexSync(r.get(path)!))
  }
  return l.size
}
