/** Document names: `<workspaceId>` or `<workspaceId>/<segment>…` (SPEC.md rule PR-N1). */
const WORKSPACE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const SEGMENT_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/
/** Longest accepted document name in UTF-16 units. */
export const MAX_DOC_NAME_LENGTH = 512
/** Deepest accepted document name (segments after the workspace). */
const MAX_SEGMENTS = 4

/** A parsed document name. */
export interface DocName {
  /** The workspace the document belongs to (the first segment). */
  workspace: string
  /** The whole name. */
  name: string
}

/** Parses and validates a document name; `undefined` when it is not acceptable. */
export function parseDocName(name: string): DocName | undefined {
  if (name.length === 0 || name.length > MAX_DOC_NAME_LENGTH) return undefined
  const parts = name.split('/')
  const workspace = parts[0] ?? ''
  if (!WORKSPACE_RE.test(workspace) || parts.length - 1 > MAX_SEGMENTS) return undefined
  for (let i = 1; i < parts.length; i++) if (!SEGMENT_RE.test(parts[i] ?? '')) return undefined
  return { workspace, name }
}

/** The workspace part of a document name (everything before the first `/`). */
export function workspaceOfDoc(name: string): string {
  const slash = name.indexOf('/')
  return slash === -1 ? name : name.slice(0, slash)
}
