/**
 * The live file tree (WAI-ARIA tree pattern): arrow keys move, Right/Left open
 * and close folders, Enter opens, F2 renames, Delete moves to the trash.
 * Folders accept dropped entries (drag to move); "Move" asks for a path.
 */
import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { askText, reportError } from './dialog.js'
import { h } from './dom.js'
import type { Session } from './session.js'

/** What the tree asks of the app. */
export interface TreeHost {
  open(entry: FileEntry, opts?: { seed?: boolean; focus?: boolean }): void
}

export class FileTree {
  readonly el: HTMLElement
  private readonly list: HTMLUListElement
  private readonly expanded = new Set<string>()
  private selected: FileId | undefined
  private queued = false

  constructor(
    private readonly s: Session,
    private readonly host: TreeHost,
  ) {
    const ro = s.scope === 'read'
    const btn = (
      label: string,
      fn: () => void | Promise<void>,
      extra: Record<string, string> = {},
    ) => h('button', { type: 'button', disabled: ro, onclick: () => void fn(), ...extra }, label)
    const toolbar = h(
      'div',
      { role: 'toolbar', 'aria-label': 'File actions', class: 'toolbar' },
      btn('New note', () => this.create('text')),
      btn('New folder', () => this.create('folder')),
      btn('Rename', () => this.rename(), { 'aria-keyshortcuts': 'F2' }),
      btn('Move', () => this.move()),
      btn('Delete', () => this.remove(), { 'aria-keyshortcuts': 'Delete' }),
    )
    this.list = h('ul', { role: 'tree', 'aria-label': 'Files', class: 'tree' })
    this.list.addEventListener('keydown', (e) => this.onKey(e))
    this.el = h('nav', { 'aria-label': 'Workspace files', class: 'files' }, toolbar, this.list)
    s.crdt.observe(() => this.refresh())
    this.render()
  }

  /** Re-renders on the next tick (many events in one frame render once). */
  refresh(): void {
    if (this.queued) return
    this.queued = true
    setTimeout(() => {
      this.queued = false
      this.render()
    }, 0)
  }

  private render(): void {
    const hadFocus = this.list.contains(document.activeElement)
    const frag = document.createDocumentFragment()
    this.renderLevel(frag, '', 1)
    this.list.replaceChildren(frag)
    if (this.list.childElementCount === 0) {
      this.list.append(
        h('li', { role: 'none', class: 'empty' }, 'No files yet. Use “New note” to add one.'),
      )
    }
    const items = this.items()
    const current = items.find((i) => i.dataset.id === this.selected) ?? items[0]
    if (current) {
      current.tabIndex = 0
      if (hadFocus) current.focus()
    }
  }

  private renderLevel(
    parent: DocumentFragment | HTMLElement,
    id: FileId | '',
    level: number,
  ): void {
    const kids = this.s.crdt
      .children(id)
      .map((c) => this.s.crdt.get(c))
      .filter((e): e is FileEntry => e !== undefined && !e.deleted)
      .sort((a, b) =>
        (a.kind === 'folder') === (b.kind === 'folder')
          ? a.name.localeCompare(b.name)
          : a.kind === 'folder'
            ? -1
            : 1,
      )
    for (const e of kids) {
      const path = this.s.crdt.getPath(e.id) ?? e.name
      const name = path.slice(path.lastIndexOf('/') + 1)
      const folder = e.kind === 'folder'
      const open = folder && this.expanded.has(e.id)
      const li = h(
        'li',
        {
          role: 'treeitem',
          'aria-level': level,
          'aria-selected': String(e.id === this.selected),
          'aria-expanded': folder ? String(open) : undefined,
          'data-id': e.id,
          'data-path': path,
          'data-kind': e.kind,
          tabindex: -1,
          draggable: this.s.scope === 'write' ? 'true' : undefined,
        },
        h(
          'span',
          { class: `row ${e.kind}`, style: `padding-left:${(level - 1) * 1}rem` },
          h(
            'span',
            { 'aria-hidden': 'true', class: 'icon' },
            folder ? (open ? '▾ ' : '▸ ') : e.kind === 'binary' ? '◆ ' : '· ',
          ),
          name,
        ),
      )
      li.addEventListener('click', (ev) => {
        ev.stopPropagation()
        this.select(e.id)
        if (folder) this.toggle(e.id)
        else this.host.open(e, { focus: true })
      })
      this.wireDrag(li, e)
      if (open) {
        const group = h('ul', { role: 'group' })
        this.renderLevel(group, e.id, level + 1)
        li.append(group)
      }
      parent.append(li)
    }
  }

  private wireDrag(li: HTMLElement, e: FileEntry): void {
    if (this.s.scope !== 'write') return
    li.addEventListener('dragstart', (ev) => {
      ev.stopPropagation()
      ev.dataTransfer?.setData('application/x-skein-file', e.id)
    })
    if (e.kind !== 'folder') return
    li.addEventListener('dragover', (ev) => {
      if (ev.dataTransfer?.types.includes('application/x-skein-file')) ev.preventDefault()
    })
    li.addEventListener('drop', (ev) => {
      ev.preventDefault()
      ev.stopPropagation()
      const id = ev.dataTransfer?.getData('application/x-skein-file') as FileId | undefined
      if (!id || id === e.id) return
      try {
        this.s.crdt.move(id, e.id)
        this.expanded.add(e.id)
      } catch (err) {
        reportError(err)
      }
    })
  }

  private items(): HTMLElement[] {
    return [...this.list.querySelectorAll<HTMLElement>('[role=treeitem]')]
  }

  private select(id: FileId): void {
    this.selected = id
    for (const i of this.items()) {
      const me = i.dataset.id === id
      i.setAttribute('aria-selected', String(me))
      i.tabIndex = me ? 0 : -1
      if (me) i.focus()
    }
  }

  private toggle(id: FileId, open?: boolean): void {
    const now = open ?? !this.expanded.has(id)
    if (now) this.expanded.add(id)
    else this.expanded.delete(id)
    this.render()
    this.select(id)
  }

  private onKey(e: KeyboardEvent): void {
    const items = this.items()
    const cur = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]')
    const idx = cur ? items.indexOf(cur) : -1
    const id = cur?.dataset.id as FileId | undefined
    const entry = id ? this.s.crdt.get(id) : undefined
    const go = (i: number) => {
      const t = items[Math.max(0, Math.min(items.length - 1, i))]
      if (t) this.select(t.dataset.id as FileId)
    }
    switch (e.key) {
      case 'ArrowDown':
        go(idx + 1)
        break
      case 'ArrowUp':
        go(idx - 1)
        break
      case 'Home':
        go(0)
        break
      case 'End':
        go(items.length - 1)
        break
      case 'ArrowRight':
        if (entry?.kind === 'folder') {
          if (!this.expanded.has(entry.id)) this.toggle(entry.id, true)
          else go(idx + 1)
        }
        break
      case 'ArrowLeft':
        if (entry?.kind === 'folder' && this.expanded.has(entry.id)) this.toggle(entry.id, false)
        else if (entry?.parent) this.select(entry.parent as FileId)
        break
      case 'Enter':
      case ' ':
        if (entry?.kind === 'folder') this.toggle(entry.id)
        else if (entry) this.host.open(entry)
        break
      case 'F2':
        void this.rename()
        break
      case 'Delete':
        this.remove()
        break
      default:
        return
    }
    e.preventDefault()
  }

  /** The folder new entries go into: the selected folder, or the selected file's folder. */
  private targetFolder(): string {
    const e = this.selected ? this.s.crdt.get(this.selected) : undefined
    if (!e || e.deleted) return ''
    const path = this.s.crdt.getPath(e.id) ?? ''
    if (e.kind === 'folder') return path + '/'
    return path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : ''
  }

  private async create(kind: 'text' | 'folder'): Promise<void> {
    const dir = this.targetFolder()
    const name = await askText(
      kind === 'text' ? 'New note' : 'New folder',
      dir ? `Name (in ${dir})` : 'Name',
      kind === 'text' ? 'Untitled.md' : '',
    )
    if (!name) return
    try {
      if (kind === 'folder') {
        const id = this.s.crdt.createFolder(dir + name)
        this.selected = id
      } else {
        const id = this.s.crdt.createFile(dir + name, {
          kind: 'text',
          hash: undefined,
          size: 0,
          mtime: Date.now(),
        })
        this.selected = id
        const e = this.s.crdt.get(id)
        if (e) this.host.open(e, { seed: true, focus: true })
      }
      const parent = this.s.crdt.get(this.selected)?.parent
      if (parent) this.expanded.add(parent)
      this.render()
    } catch (err) {
      reportError(err)
    }
  }

  private async rename(): Promise<void> {
    const e = this.selected ? this.s.crdt.get(this.selected) : undefined
    if (!e || this.s.scope === 'read') return
    const name = await askText(`Rename ${e.name}`, 'New name', e.name)
    if (!name || name === e.name) return
    try {
      this.s.crdt.rename(e.id, name)
    } catch (err) {
      reportError(err)
    }
  }

  private async move(): Promise<void> {
    const e = this.selected ? this.s.crdt.get(this.selected) : undefined
    if (!e || this.s.scope === 'read') return
    const path = await askText(
      `Move ${e.name}`,
      'New path (folders are created as needed)',
      this.s.crdt.getPath(e.id) ?? e.name,
    )
    if (!path) return
    try {
      this.s.crdt.moveToPath(e.id, path)
    } catch (err) {
      reportError(err)
    }
  }

  private remove(): void {
    const e = this.selected ? this.s.crdt.get(this.selected) : undefined
    if (!e || this.s.scope === 'read') return
    try {
      this.s.crdt.delete(e.id)
      this.selected = undefined
    } catch (err) {
      reportError(err)
    }
  }
}
