/** This browser's identity in a workspace: a device id, a display name and a cursor colour. */
import { asDeviceId, type DeviceId } from '@skein/core'

export interface Device {
  id: DeviceId
  name: string
  color: string
  colorLight: string
}

const COLORS = [
  '#d43f3a',
  '#1f77b4',
  '#2ca02c',
  '#9467bd',
  '#e377c2',
  '#8c564b',
  '#ff7f0e',
  '#17becf',
]

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * The device of this browser tab. The id is per tab (sessionStorage) so two tabs
 * show as two cursors; `?device=NAME` overrides the display name.
 */
export function currentDevice(): Device {
  let id = sessionStorage.getItem('skein:device')
  if (!id) {
    id = `web-${randomId()}`
    sessionStorage.setItem('skein:device', id)
  }
  const named = new URLSearchParams(location.search).get('device')
  const name =
    named?.trim() || localStorage.getItem('skein:device-name') || `Browser ${id.slice(4, 8)}`
  let hash = 0
  for (const c of id) hash = (hash * 31 + c.charCodeAt(0)) >>> 0
  const color = COLORS[hash % COLORS.length] ?? '#1f77b4'
  return { id: asDeviceId(id), name, color, colorLight: `${color}33` }
}
