/**
 * User-perceived characters (grapheme clusters), so text edits never cut a
 * surrogate pair, split a base letter from its combining marks, or break an
 * emoji sequence (TX2). Uses `Intl.Segmenter` where the runtime has it (every
 * current browser and Node), else a code-point + combining-mark approximation.
 */

/** How much text around a position is segmented to decide whether it is a boundary. */
const WINDOW = 64

let cached: Intl.Segmenter | null | undefined

function segmenter(): Intl.Segmenter | null {
  if (cached === undefined)
    cached =
      typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function'
        ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
        : null
  return cached
}

/** Fallback cluster: a code point, then combining marks, variation selectors, skin tones, tags, or ZWJ-joined code points. */
const APPROX_CLUSTER =
  /[\s\S](?:\u200D[\s\S]|\p{M}|\p{Emoji_Modifier}|\u200C|\p{Variation_Selector}|[\u{E0020}-\u{E007F}])*/gu

/**
 * Longest piece handed to `Intl.Segmenter` at once. Node 20's segment iterator
 * costs time proportional to the whole string per step (quadratic: 160 KB took
 * 30 s and blocked an agent), so long text is cut at safe boundaries first.
 */
const CHUNK = 1024
/** ASCII without CR: every character is its own cluster (no ASCII extends or joins). */
// eslint-disable-next-line no-control-regex
const PLAIN_ASCII = /^[\x00-\x0c\x0e-\x7f]*$/

/** Splits `s` into grapheme clusters; `clusters(s).join('') === s`. */
export function clusters(s: string, useSegmenter = true): string[] {
  const seg = useSegmenter ? segmenter() : null
  if (seg) {
    const out: string[] = []
    for (let from = 0; from < s.length;) {
      const to = safeCut(s, from + CHUNK)
      const piece = from === 0 && to === s.length ? s : s.slice(from, to)
      if (PLAIN_ASCII.test(piece))
        for (let i = 0; i < piece.length; i++) out.push(piece[i] as string)
      else for (const { segment } of seg.segment(piece)) out.push(segment)
      from = to
    }
    return out
  }
  return s.match(APPROX_CLUSTER) ?? []
}

/**
 * The first offset at or after `pos` that is a cluster boundary whatever the
 * text around it: right after a LF, or between two ASCII characters other than
 * CR LF (UAX #29 GB3–GB5, GB9–GB9b: no ASCII character extends, joins or
 * prepends). The end of `s` when there is none.
 */
function safeCut(s: string, pos: number): number {
  for (let i = pos; i < s.length; i++) {
    const p = s.charCodeAt(i - 1)
    const c = s.charCodeAt(i)
    if (p === 10 || (c < 0x80 && p < 0x80 && !(p === 13 && c === 10))) return i
  }
  return s.length
}

const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff

/** True when UTF-16 offset `pos` of `s` lies between two grapheme clusters (or at either end). */
export function isBoundary(s: string, pos: number, useSegmenter = true): boolean {
  if (pos <= 0 || pos >= s.length) return true
  const c = s.charCodeAt(pos)
  const p = s.charCodeAt(pos - 1)
  if (isLow(c) && isHigh(p)) return false
  // Fast path: between two ASCII characters the only non-boundary is CR LF.
  if (c < 0x80 && p < 0x80) return !(p === 13 && c === 10)
  const from = Math.max(0, pos - WINDOW)
  const window = s.slice(from, Math.min(s.length, pos + WINDOW))
  const seg = useSegmenter ? segmenter() : null
  if (seg) return seg.segment(window).containing(pos - from)?.index === pos - from
  let at = 0
  for (const cl of window.match(APPROX_CLUSTER) ?? []) {
    if (at === pos - from) return true
    if (at > pos - from) return false
    at += cl.length
  }
  return at === pos - from
}
