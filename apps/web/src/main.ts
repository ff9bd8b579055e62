/** Entry point: the start page, or a workspace with its tree, editor panes and status. */
import type { FileEntry } from '@skein/workspace'
import { currentDevice } from './device.js'
import { h } from './dom.js'
import { EditorPane } from './editor-pane.js'
import { dropTokenFromAddress, parseRoute, workspaceHref, type Route } from './route.js'
import { openSession, type Session } from './session.js'
import { mountConflicts, mountTrash } from './side-panels.js'
import { mountStatus } from './status.js'
import { loadToken, saveToken, tokenScope } from './tokens.js'
import { FileTree } from './tree.js'
import './style.css'

const app = document.getElementById('app') as HTMLElement

/** The start page: which workspace, with which token. */
function startPage(route: Route, reason?: string): void {
  const ws = h('input', {
    type: 'text',
    name: 'workspace',
    required: true,
    value: route.workspace ?? '',
    autocomplete: 'off',
  })
  const tok = h('input', { type: 'password', name: 'token', autocomplete: 'off' })
  const form = h(
    'form',
    { class: 'start', 'aria-labelledby': 'start-title' },
    h('h1', { id: 'start-title' }, 'Open a Skein workspace'),
    reason ? h('p', { class: 'notice', role: 'alert' }, reason) : undefined,
    h('label', {}, 'Workspace', ws),
    h(
      'label',
      {},
      'Access token (from ',
      h('code', {}, 'skein token create'),
      '; leave empty on an open server)',
      tok,
    ),
    h('button', { type: 'submit' }, 'Open'),
    h(
      'p',
      { class: 'hint' },
      `The token is kept in this browser and only sent to ${route.server}.`,
    ),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const w = ws.value.trim()
    if (!w) return
    saveToken(route.server, w, tok.value.trim() || undefined)
    location.hash = workspaceHref(w).slice(workspaceHref(w).indexOf('#'))
  })
  app.replaceChildren(h('main', {}, form))
  ws.focus()
}

/** The workspace view. */
async function workspacePage(route: Route & { workspace: string }): Promise<void> {
  if (route.token) {
    saveToken(route.server, route.workspace, route.token)
    dropTokenFromAddress()
  }
  const token = route.token ?? loadToken(route.server, route.workspace)
  const device = currentDevice()
  app.replaceChildren(h('p', { class: 'loading' }, 'Opening workspace…'))
  const s = await openSession({
    server: route.server,
    workspace: route.workspace,
    token,
    scope: tokenScope(token),
    device,
  })
  const status = mountStatus(s)
  const primary = new EditorPane(s, 'primary', status.refresh)
  const secondary = new EditorPane(s, 'secondary', status.refresh)
  secondary.el.hidden = true
  const closeBeside = h(
    'button',
    { type: 'button', class: 'close-beside', hidden: true },
    'Close the copy',
  )
  const host = {
    open(entry: FileEntry, opts?: { seed?: boolean; focus?: boolean }) {
      void primary.open(entry, opts)
      document.body.classList.add('note-open')
    },
    openBeside(note: FileEntry, copy: FileEntry) {
      void primary.open(note)
      void secondary.open(copy)
      secondary.el.hidden = false
      closeBeside.hidden = false
    },
  }
  closeBeside.addEventListener('click', () => {
    secondary.clear()
    secondary.el.hidden = true
    closeBeside.hidden = true
  })
  const tree = new FileTree(s, host)
  s.crdt.observe(() => {
    primary.entryChanged()
    secondary.entryChanged()
  })
  s.handle.onStatus(status.refresh)
  s.doc.on('update', status.refresh)
  s.client.onStatus((st) => {
    if (st === 'error') onRefused(s, route)
  })
  const header = h(
    'header',
    { class: 'top' },
    h(
      'h1',
      {},
      h('span', { class: 'brand' }, 'Skein'),
      ' ',
      h('span', { class: 'ws' }, route.workspace),
    ),
    s.scope === 'read' ? h('span', { class: 'badge' }, 'read-only') : undefined,
    h('span', { class: 'me', style: `--me:${device.color}` }, device.name),
    status.el,
  )
  app.replaceChildren(
    header,
    h('p', { id: 'errors', class: 'errors', role: 'alert', hidden: true }),
    h(
      'div',
      { class: 'layout' },
      h('aside', { class: 'side' }, tree.el, mountTrash(s, host), mountConflicts(s, host)),
      h('main', { class: 'panes' }, closeBeside, primary.el, secondary.el),
    ),
  )
  // tests and the benchmark reach the editor through this handle
  Object.assign(window, { skein: { session: s, primary, secondary, tree } })
}

function onRefused(s: Session, route: Route & { workspace: string }): void {
  const msg = s.client.error?.message ?? 'The server refused the connection.'
  if (s.client.error?.code === 'NOT_AUTHORIZED' || s.client.error?.code === 'FORBIDDEN') {
    saveToken(route.server, route.workspace, undefined)
    s.close()
    startPage(route, msg)
  }
}

function boot(): void {
  const route = parseRoute(location)
  if (route.workspace) void workspacePage({ ...route, workspace: route.workspace })
  else startPage(route)
}

window.addEventListener('hashchange', () => location.reload())
boot()
