import { WorkBudget, WorkExceeded } from './budget.js'
import { clusters, isBoundary } from './graphemes.js'
import { Interner } from './lines.js'
import { ClassCounts } from './prepare.js'
import { diffIds } from './xdiff.js'

/** One replacement in the old text: remove `deleteCount` UTF-16 units at `index`, insert `insert` there. */
export interface TextEdit {
  /** Offset in the old text (UTF-16 code units, as Y.Text counts). */
  index: number
  deleteCount: number
  insert: string
}

/** Options of {@link diffText}. */
export interface DiffTextOptions {
  /**
   * Work bound of the character diff between the common prefix and suffix.
   * Default 2 000 000; past it the changed middle is replaced as one edit, which
   * is still correct, only coarser.
   */
  maxWork: number
}

/** Defaults for {@link DiffTextOptions}. */
export const DEFAULT_DIFF_TEXT_OPTIONS: Readonly<DiffTextOptions> = Object.freeze({
  maxWork: 2_000_000,
})

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

function commonSuffix(a: string, b: string, max: number): number {
  let i = 0
  while (i < max && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++
  return i
}

/**
 * The edits that turn `prev` into `next`: common prefix and suffix are kept,
 * the middle is diffed by grapheme cluster, so no edit boundary falls inside a
 * surrogate pair or a base-plus-combining-mark sequence (TX1, TX2). Edits are
 * ascending and non-overlapping, in `prev` offsets.
 */
export function diffText(
  prev: string,
  next: string,
  options?: Partial<DiffTextOptions>,
): TextEdit[] {
  if (prev === next) return []
  const { maxWork } = { ...DEFAULT_DIFF_TEXT_OPTIONS, ...options }
  let p = commonPrefix(prev, next)
  while (p > 0 && !(isBoundary(prev, p) && isBoundary(next, p))) p--
  let s = commonSuffix(prev, next, Math.min(prev.length, next.length) - p)
  while (s > 0 && !(isBoundary(prev, prev.length - s) && isBoundary(next, next.length - s))) s--
  const a = prev.slice(p, prev.length - s)
  const b = next.slice(p, next.length - s)
  const whole: TextEdit[] = [{ index: p, deleteCount: a.length, insert: b }]
  if (a.length === 0 || b.length === 0) return whole

  const ta = clusters(a)
  const tb = clusters(b)
  const interner = new Interner()
  const ia = interner.all(ta)
  const ib = interner.all(tb)
  let script
  try {
    script = diffIds(ia, ib, interner.size, new ClassCounts(), new WorkBudget(maxWork))
  } catch (err) {
    if (err instanceof WorkExceeded) return whole
    throw err
  }
  const offsets = new Int32Array(ta.length + 1)
  for (let i = 0; i < ta.length; i++)
    offsets[i + 1] = (offsets[i] as number) + (ta[i] as string).length
  return script.map((x) => ({
    index: p + (offsets[x.i1] as number),
    deleteCount: (offsets[x.i1 + x.chg1] as number) - (offsets[x.i1] as number),
    insert: tb.slice(x.i2, x.i2 + x.chg2).join(''),
  }))
}
