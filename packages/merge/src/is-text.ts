/** Options of {@link isText}. */
export interface IsTextOptions {
  /** Larger inputs are treated as binary. Default 8 MiB: far above any note, and merges stay well under a second. */
  maxBytes: number
  /** How many leading bytes are checked for NUL. Default 8192 (8 KiB), close to git's 8000. */
  sniffBytes: number
}

/** Defaults for {@link IsTextOptions}. */
export const DEFAULT_IS_TEXT_OPTIONS: Readonly<IsTextOptions> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  sniffBytes: 8192,
})

let decoder: TextDecoder | undefined

/**
 * True when `bytes` should be synced and merged as text: at most `maxBytes`, no
 * NUL byte in the first `sniffBytes`, and valid UTF-8 throughout (IT1–IT3).
 * Anything else is binary and is synced whole, never merged.
 */
export function isText(bytes: Uint8Array, options?: Partial<IsTextOptions>): boolean {
  const { maxBytes, sniffBytes } = { ...DEFAULT_IS_TEXT_OPTIONS, ...options }
  if (bytes.length > maxBytes) return false
  const sniff = Math.min(bytes.length, sniffBytes)
  for (let i = 0; i < sniff; i++) if (bytes[i] === 0) return false
  decoder ??= new TextDecoder('utf-8', { fatal: true })
  try {
    decoder.decode(bytes)
    return true
  } catch {
    return false
  }
}
