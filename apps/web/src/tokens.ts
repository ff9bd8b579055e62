/**
 * Tokens are kept in localStorage per (server, workspace): a token is only ever
 * sent to the server it was stored for, never to another `?server=`.
 */
export type Scope = 'read' | 'write'

const key = (server: string, workspace: string) => `skein:token:${server}|${workspace}`

/** The stored token for a workspace on a server, if any. */
export function loadToken(server: string, workspace: string): string | undefined {
  try {
    return localStorage.getItem(key(server, workspace)) ?? undefined
  } catch {
    return undefined
  }
}

/** Stores (or with `undefined`, forgets) the token for a workspace on a server. */
export function saveToken(server: string, workspace: string, token: string | undefined): void {
  try {
    if (token) localStorage.setItem(key(server, workspace), token)
    else localStorage.removeItem(key(server, workspace))
  } catch {
    // storage disabled (private mode): the token lives for this page only
  }
}

/**
 * The scope a token claims (`read` or `write`), read without verifying it: the
 * server enforces access; the page only uses this to say why it will not edit.
 * No token (an open server on loopback) means write.
 */
export function tokenScope(token: string | undefined): Scope {
  if (!token) return 'write'
  try {
    const body = token.split('.')[0] ?? ''
    const json = atob(body.replace(/-/g, '+').replace(/_/g, '/'))
    const claims = JSON.parse(json) as { s?: unknown }
    return claims.s === 'read' ? 'read' : 'write'
  } catch {
    return 'write'
  }
}
