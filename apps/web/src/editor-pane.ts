/**
 * One editor pane: a text note in CodeMirror bound to its body document
 * (y-codemirror.next: shared text, remote cursors, undo), or a binary file view.
 */
import { defaultKeymap, historyKeymap } from '@codemirror/commands'
import { markdown } from '@codemirror/lang-markdown'
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language'
import { EditorState } from '@codemirror/state'
import {
  EditorView,
  keymap,
  lineNumbers,
  drawSelection,
  highlightActiveLine,
} from '@codemirror/view'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import { sha256Hex, type FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { openBody, type OpenBody } from './body.js'
import { renderBinary } from './binary-view.js'
import { h } from './dom.js'
import type { Session } from './session.js'

/** A pane showing one file. */
export class EditorPane {
  readonly el: HTMLElement
  private readonly title: HTMLElement
  private readonly notice: HTMLElement
  private readonly host: HTMLElement
  private view: EditorView | undefined
  private body: OpenBody | undefined
  private metaTimer: ReturnType<typeof setTimeout> | undefined
  private disposers: (() => void)[] = []
  /** The file shown, if any. */
  fileId: FileId | undefined
  private gen = 0
  private opening = 0

  constructor(
    private readonly s: Session,
    private readonly label: string,
    private readonly onChange: () => void,
  ) {
    this.title = h('h2', { class: 'pane-title', id: `${label}-title` }, 'No note open')
    this.notice = h('p', { class: 'notice', role: 'note', hidden: true })
    this.host = h('div', { class: 'editor-host' })
    this.el = h(
      'section',
      { class: 'pane', 'aria-labelledby': `${label}-title`, 'data-pane': label },
      this.title,
      this.notice,
      this.host,
    )
  }

  /** Shows a message in the pane (why it is read-only, why a body is not shown). */
  private say(text: string | undefined): void {
    this.notice.hidden = !text
    this.notice.textContent = text ?? ''
  }

  /** Opens a file in this pane; `seed` when this page just created it, `focus` to move the keyboard into it. */
  async open(entry: FileEntry, opts: { seed?: boolean; focus?: boolean } = {}): Promise<void> {
    const ticket = ++this.opening
    this.clear()
    this.fileId = entry.id
    this.gen = entry.gen
    this.title.textContent = this.s.crdt.getPath(entry.id) ?? entry.name
    if (entry.kind === 'binary') {
      this.host.append(renderBinary(this.s, entry))
      return
    }
    if (entry.kind === 'folder') return
    this.host.append(h('p', { class: 'loading' }, 'Opening…'))
    const t0 = performance.now()
    const res = await openBody(this.s, entry, opts)
    if (ticket !== this.opening) {
      if ('doc' in res) res.close()
      return
    }
    this.host.replaceChildren()
    if (!('doc' in res)) {
      this.say(
        `This note's content is being reset on another device (content generation ${res.bodyGen}, the workspace says ${res.entryGen}). It is not shown, to avoid duplicating text; it opens once the new content arrives.`,
      )
      return
    }
    this.body = res
    const off = res.handle.onStatus(this.onChange)
    const onUpdate = (_u: Uint8Array, origin: unknown) => {
      this.onChange()
      if (origin !== res.handle.origin) this.scheduleMeta()
    }
    res.doc.on('update', onUpdate)
    this.disposers.push(off, () => res.doc.off('update', onUpdate))
    this.mountEditor(res)
    if (opts.focus) this.view?.focus()
    this.el.dataset.openMs = String(Math.round(performance.now() - t0))
  }

  private mountEditor(body: OpenBody): void {
    const readOnly = this.s.scope === 'read'
    const awareness = body.handle.awareness
    awareness.setLocalStateField('user', {
      name: this.s.device.name,
      color: this.s.device.color,
      colorLight: this.s.device.colorLight,
    })
    const undoManager = new Y.UndoManager(body.text)
    const path = this.s.crdt.getPath(this.fileId as FileId) ?? ''
    this.view = new EditorView({
      parent: this.host,
      state: EditorState.create({
        doc: body.text.toJSON(),
        extensions: [
          lineNumbers(),
          drawSelection(),
          highlightActiveLine(),
          EditorView.lineWrapping,
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap, ...historyKeymap]),
          markdown(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          yCollab(body.text, awareness, { undoManager }),
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': `Text of ${path}` }),
        ],
      }),
    })
    if (readOnly) {
      this.say(
        'Read-only: this link’s token only allows reading this workspace. Ask its owner for a write token to edit.',
      )
      this.view.dom.addEventListener('keydown', () => this.flashReadOnly())
      this.view.dom.addEventListener('beforeinput', () => this.flashReadOnly())
    }
  }

  private flashReadOnly(): void {
    this.notice.classList.remove('flash')
    void this.notice.offsetWidth
    this.notice.classList.add('flash')
  }

  /** Keeps the entry's size and hash current when this page edits (the agent does the same from disk). */
  private scheduleMeta(): void {
    if (this.s.scope === 'read') return
    if (this.metaTimer) clearTimeout(this.metaTimer)
    this.metaTimer = setTimeout(() => void this.writeMeta(), 1500)
  }

  private async writeMeta(): Promise<void> {
    const id = this.fileId
    const body = this.body
    if (!id || !body) return
    const text = body.text.toJSON()
    const bytes = new TextEncoder().encode(text)
    const hash = await sha256Hex(bytes)
    const entry = this.s.crdt.get(id)
    if (!entry || entry.deleted || entry.hash === hash || this.body !== body) return
    if (body.text.toJSON() !== text) return this.scheduleMeta()
    this.s.crdt.updateContent(id, { hash, size: bytes.length, mtime: Date.now() })
  }

  /** Follows renames and moves; reopens when the entry's body generation changes. */
  entryChanged(): void {
    if (!this.fileId) return
    const entry = this.s.crdt.get(this.fileId)
    if (!entry || entry.deleted) {
      this.title.textContent = `${entry?.name ?? 'Note'} (deleted — restore it from the trash to edit)`
      return
    }
    this.title.textContent = this.s.crdt.getPath(entry.id) ?? entry.name
    if (entry.gen !== this.gen) void this.open(entry)
  }

  /** The editor view (tests and the benchmark read it). */
  get editor(): EditorView | undefined {
    return this.view
  }

  /** Empties the pane. */
  clear(): void {
    if (this.metaTimer) clearTimeout(this.metaTimer)
    for (const d of this.disposers) d()
    this.disposers = []
    this.view?.destroy()
    this.view = undefined
    this.body?.close()
    this.body = undefined
    this.fileId = undefined
    this.say(undefined)
    this.host.replaceChildren()
    this.title.textContent = 'No note open'
  }
}
