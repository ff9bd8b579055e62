import { SnapshotRepo, infoOf } from './repo.js'
import type { SnapshotInfo, SnapshotStoreOptions } from './types.js'

/** Every snapshot in the repository, oldest first. */
export async function listSnapshots(o: SnapshotStoreOptions): Promise<SnapshotInfo[]> {
  const repo = await SnapshotRepo.open(o, false)
  const ids = await repo.snapshotIds()
  return Promise.all(ids.map(async (id) => infoOf(await repo.readManifest(id))))
}
