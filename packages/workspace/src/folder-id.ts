import { pathKey, type FileId } from '@skein/core'

/** 53-bit string hash (cyrb53); two seeds give ~100 bits. Not cryptographic: ids are not secrets. */
function cyrb53(str: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/**
 * The FileId a folder gets when created at (parent, name) — the same on every
 * device (WS7), so two devices that each create `notes/` offline share one folder
 * entry instead of showing `notes` and `notes (2)`. Falls back to a random id when
 * this id is already used elsewhere (e.g. the original folder was renamed).
 */
export function derivedFolderId(parent: string, name: string): FileId {
  const key = `${parent}\u0000${pathKey(name)}`
  const a = cyrb53(key, 1).toString(36).padStart(11, '0').slice(-10)
  const b = cyrb53(key, 2).toString(36).padStart(11, '0').slice(-9)
  return `d${a}${b}` as FileId
}
