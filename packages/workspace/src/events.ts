import type { FileId } from '@skein/core'
import type { FileKind } from './schema.js'
import type { WorkspaceOrigin } from './origin.js'

interface Base {
  id: FileId
  kind: FileKind
  origin: WorkspaceOrigin
}

/** A change to the derived file tree, computed from one Yjs transaction. */
export type WorkspaceEvent =
  | (Base & { type: 'created'; path: string })
  | (Base & { type: 'deleted'; oldPath: string })
  | (Base & { type: 'restored'; path: string })
  /** Same folder, new (display) name. Descendants move with it implicitly. */
  | (Base & { type: 'renamed'; oldPath: string; newPath: string })
  /** New (effective) parent folder, possibly with a new name too. */
  | (Base & { type: 'moved'; oldPath: string; newPath: string })
  | (Base & { type: 'contentChanged'; path: string })

export type WorkspaceListener = (events: WorkspaceEvent[], origin: WorkspaceOrigin) => void
