/**
 * The always-visible sync status: connecting / offline / saving / all changes
 * saved (from server acks), with the number of unsynced changes.
 */
import type { Session } from './session.js'
import { h } from './dom.js'

export type SyncState = 'connecting' | 'offline' | 'saving' | 'saved' | 'error'

/** Derives the state shown from the socket and every open document. */
export function syncState(s: Session): { state: SyncState; unsynced: number; text: string } {
  let unsynced = 0
  let syncing = false
  for (const hd of s.handles) {
    unsynced += hd.unsyncedChanges
    if (hd.status === 'syncing' || hd.status === 'connecting') syncing = true
  }
  const n = unsynced === 1 ? '1 unsynced change' : `${unsynced} unsynced changes`
  switch (s.client.status) {
    case 'error':
      return { state: 'error', unsynced, text: s.client.error?.message ?? 'Sync stopped.' }
    case 'offline':
      return { state: 'offline', unsynced, text: `Offline — edits are kept on this device (${n})` }
    case 'connecting':
      return { state: 'connecting', unsynced, text: `Connecting… (${n})` }
    default:
      if (unsynced > 0 || syncing) return { state: 'saving', unsynced, text: `Saving… (${n})` }
      return { state: 'saved', unsynced, text: 'All changes saved' }
  }
}

/** Renders the status into a live region and keeps it current. */
export function mountStatus(s: Session): { el: HTMLElement; refresh: () => void } {
  const el = h('p', {
    class: 'status',
    role: 'status',
    'aria-live': 'polite',
    'data-testid': 'sync-status',
  })
  let queued = false
  const render = () => {
    queued = false
    const { state, unsynced, text } = syncState(s)
    el.dataset.state = state
    el.dataset.unsynced = String(unsynced)
    if (el.textContent !== text) el.textContent = text
  }
  const refresh = () => {
    if (queued) return
    queued = true
    setTimeout(render, 50)
  }
  s.client.onStatus(refresh)
  render()
  // acks and sends do not all emit events: poll cheaply as a backstop
  setInterval(render, 500)
  return { el, refresh }
}
