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

/** Splits `s` into grapheme clusters; `clusters(s).join('') === s`. */
export function clusters(s: string, useSegmenter = true): string[] {
  const seg = useSegmenter ? segmenter() : null
  if (seg) {
    const out: string[] = []
    for (const { segment } of seg.segment(s)) out.push(segment)
    return out
  }
  return s.match(APPROX_CLUSTER) ?? []
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
