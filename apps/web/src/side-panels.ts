/** The trash (restore deleted entries) and the conflicts panel, both live. */
import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { reportError } from './dialog.js'
import { h } from './dom.js'
import type { Session } from './session.js'

/** What the panels ask of the app. */
export interface PanelHost {
  open(entry: FileEntry): void
  /** Opens the conflict copy beside the note it came from. */
  openBeside(note: FileEntry, copy: FileEntry): void
}

function panel(
  title: string,
  id: string,
): { el: HTMLDetailsElement; body: HTMLElement; count: HTMLElement } {
  const count = h('span', { class: 'count' })
  const body = h('ul', { class: 'panel-list', 'aria-labelledby': id })
  const el = h('details', { class: 'panel' }, h('summary', { id }, title, ' ', count), body)
  return { el, body, count }
}

/** Deleted entries, newest first, each with a Restore button. */
export function mountTrash(s: Session, host: PanelHost): HTMLElement {
  const { el, body, count } = panel('Trash', 'trash-title')
  const render = () => {
    const deleted = s.crdt
      .list({ includeDeleted: true })
      .filter(
        (e) =>
          e.deleted &&
          !(
            e.parent &&
            s.crdt.get(e.parent as FileId)?.deleted &&
            s.crdt.get(e.parent as FileId)?.deletedAt === e.deletedAt
          ),
      )
      .sort((a, b) => (b.deletedAt ?? 0) - (a.deletedAt ?? 0))
    count.textContent = `(${deleted.length})`
    body.replaceChildren(
      ...deleted.map((e) =>
        h(
          'li',
          { 'data-id': e.id },
          h(
            'span',
            {},
            `${e.name}${e.kind === 'folder' ? '/' : ''}`,
            h('small', {}, e.deletedBy ? ` deleted by ${e.deletedBy}` : ''),
          ),
          h(
            'button',
            {
              type: 'button',
              disabled: s.scope === 'read',
              'aria-label': `Restore ${e.name}`,
              onclick: () => {
                try {
                  s.crdt.restore(e.id)
                  const r = s.crdt.get(e.id)
                  if (r && r.kind !== 'folder') host.open(r)
                } catch (err) {
                  reportError(err)
                }
              },
            },
            'Restore',
          ),
        ),
      ),
    )
    if (deleted.length === 0) body.append(h('li', { class: 'empty' }, 'The trash is empty.'))
  }
  s.crdt.observe(render)
  render()
  return el
}

/** Conflicts recorded by any device that still need attention, with the copy opened beside the note. */
export function mountConflicts(s: Session, host: PanelHost): HTMLElement {
  const { el, body, count } = panel('Conflicts', 'conflicts-title')
  const render = () => {
    const open = s.crdt.openConflicts()
    count.textContent = `(${open.length})`
    el.classList.toggle('has-items', open.length > 0)
    body.replaceChildren(
      ...open.map((c) => {
        const note = s.crdt.get(c.file)
        const copy = c.copy ? s.crdt.get(c.copy) : undefined
        const path = (note && s.crdt.getPath(note.id)) ?? c.path
        return h(
          'li',
          { 'data-conflict': c.id },
          h(
            'span',
            {},
            `${path}: ${c.kind} conflict from ${c.device}, ${new Date(c.time).toLocaleString()}`,
          ),
          note && copy && !copy.deleted
            ? h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Compare ${path} with its conflict copy`,
                  onclick: () => host.openBeside(note, copy),
                },
                'Compare',
              )
            : undefined,
          h(
            'button',
            {
              type: 'button',
              disabled: s.scope === 'read',
              'aria-label': `Mark the conflict on ${path} resolved`,
              onclick: () => {
                try {
                  s.crdt.resolveConflict(c.id)
                } catch (err) {
                  reportError(err)
                }
              },
            },
            'Resolved',
          ),
        )
      }),
    )
    if (open.length === 0) body.append(h('li', { class: 'empty' }, 'No conflicts.'))
  }
  let queued = false
  s.doc.on('afterTransaction', () => {
    if (queued) return
    queued = true
    setTimeout(() => {
      queued = false
      render()
    }, 50)
  })
  render()
  return el
}
