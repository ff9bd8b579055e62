/** Who a connection is (SPEC.md PR-T1…T3). */
import { verifyToken } from '@skein/protocol'
import type { Scope } from '@skein/protocol'
import type { AuthMode } from './options.js'

/** What a connection may do: one workspace (or all, `*`, in open mode) with a scope. */
export interface Access {
  workspace: string
  scope: Scope
}

/** Resolves a token to an {@link Access}, or `undefined` (close 4401). */
export async function authorize(
  mode: AuthMode,
  token: string | undefined,
): Promise<Access | undefined> {
  if (mode.mode === 'open') return { workspace: '*', scope: 'write' }
  if (!token) return undefined
  const check = await verifyToken(mode.secret, token)
  return check.ok ? { workspace: check.claims.workspace, scope: check.claims.scope } : undefined
}

/** True when `access` covers `workspace`. */
export function allows(access: Access, workspace: string): boolean {
  return access.workspace === '*' || access.workspace === workspace
}

/** True for addresses only this machine can reach (open mode is refused elsewhere). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}
