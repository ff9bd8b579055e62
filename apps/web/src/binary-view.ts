/** A binary file: a download link, and a preview when it is an image. */
import { blobUrl } from '@skein/client'
import type { FileEntry } from '@skein/workspace'
import { formatBytes, h } from './dom.js'
import type { Session } from './session.js'

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  avif: 'image/avif',
}

/** Renders a binary entry; the bytes are fetched with the token in a header, never in the URL. */
export function renderBinary(s: Session, entry: FileEntry): HTMLElement {
  const ext = /\.([^.]+)$/.exec(entry.name)?.[1]?.toLowerCase() ?? ''
  const type = IMAGE_TYPES[ext]
  const box = h('div', { class: 'binary' }, h('p', {}, `Binary file, ${formatBytes(entry.size)}.`))
  const hash = entry.blob ?? entry.hash
  if (!hash) {
    box.append(h('p', {}, 'Its content has not been uploaded yet by the device that added it.'))
    return box
  }
  const status = h('p', { role: 'status' }, 'Fetching…')
  box.append(status)
  void (async () => {
    try {
      const res = await fetch(blobUrl({ url: s.server, workspace: s.workspace, hash }), {
        headers: s.token ? { authorization: `Bearer ${s.token}` } : {},
      })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      const blob = await res.blob()
      const url = URL.createObjectURL(type ? new Blob([blob], { type }) : blob)
      status.remove()
      box.append(
        h('a', { href: url, download: entry.name, class: 'button' }, `Download ${entry.name}`),
      )
      // SVG previews go through <img>, which never runs scripts inside the file
      if (type)
        box.append(h('img', { src: url, alt: `Preview of ${entry.name}`, class: 'preview' }))
    } catch (e) {
      status.textContent = `Could not fetch ${entry.name} from the server (${String(e)}): check the connection and reopen it.`
    }
  })()
  return box
}
