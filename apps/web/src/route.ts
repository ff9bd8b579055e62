/**
 * Where the page points: the workspace from the hash route `#/w/<workspace>`,
 * a token from `?token=` (in the hash or the query) and the sync server from
 * `?server=ws://…` (default: the page's own origin).
 */
export interface Route {
  /** Workspace id, or undefined on the start page. */
  workspace: string | undefined
  /** A token handed over in the link (removed from the address bar once read). */
  token: string | undefined
  /** `ws(s)://host:port` of the sync server. */
  server: string
}

function sameOriginServer(loc: Location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}`
}

/** Reads the route from a location. A `server` that is not ws:// or wss:// is ignored. */
export function parseRoute(loc: Location): Route {
  const hash = loc.hash.replace(/^#/, '')
  const q = hash.indexOf('?')
  const path = q >= 0 ? hash.slice(0, q) : hash
  const hashParams = new URLSearchParams(q >= 0 ? hash.slice(q + 1) : '')
  const query = new URLSearchParams(loc.search)
  const m = /^\/w\/([^/?]+)\/?$/.exec(path)
  let workspace: string | undefined
  try {
    workspace = m?.[1] ? decodeURIComponent(m[1]) : undefined
  } catch {
    workspace = undefined
  }
  const token = hashParams.get('token') ?? query.get('token') ?? undefined
  const wanted = hashParams.get('server') ?? query.get('server')
  const server =
    wanted && /^wss?:\/\/[^\s]+$/.test(wanted) ? wanted.replace(/\/+$/, '') : sameOriginServer(loc)
  return { workspace, token: token || undefined, server }
}

/** The address of a workspace, keeping a non-default `?server=`. */
export function workspaceHref(workspace: string): string {
  return `${location.pathname}${location.search}#/w/${encodeURIComponent(workspace)}`
}

/** Removes `token` from the address bar so it is not left in history or shared by copy-paste. */
export function dropTokenFromAddress(): void {
  const url = new URL(location.href)
  url.searchParams.delete('token')
  const hash = url.hash.replace(/^#/, '')
  const q = hash.indexOf('?')
  if (q >= 0) {
    const params = new URLSearchParams(hash.slice(q + 1))
    params.delete('token')
    const rest = params.toString()
    url.hash = hash.slice(0, q) + (rest ? `?${rest}` : '')
  }
  if (url.href !== location.href) history.replaceState(history.state, '', url.href)
}
