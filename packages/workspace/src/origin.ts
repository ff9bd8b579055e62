import type { DeviceId } from '@skein/core'

/** Who caused a change: the local disk, a remote peer, a UI, or a merge. */
export interface WorkspaceOrigin {
  source: 'disk' | 'remote' | 'ui' | 'merge'
  device: DeviceId | undefined
}

const SOURCES = new Set(['disk', 'remote', 'ui', 'merge'])

/** Reads a Yjs transaction origin as a WorkspaceOrigin; anything else counts as remote. */
export function toWorkspaceOrigin(origin: unknown): WorkspaceOrigin {
  if (origin && typeof origin === 'object' && 'source' in origin) {
    const o = origin as { source: unknown; device?: unknown }
    if (typeof o.source === 'string' && SOURCES.has(o.source)) {
      return {
        source: o.source as WorkspaceOrigin['source'],
        device: typeof o.device === 'string' ? (o.device as DeviceId) : undefined,
      }
    }
  }
  return { source: 'remote', device: undefined }
}
