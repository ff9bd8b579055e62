import { SkeinError } from '@skein/core'
import { WorkBudget, WorkExceeded } from './budget.js'
import { clusters } from './graphemes.js'
import { Interner, splitLines } from './lines.js'
import { ClassCounts } from './prepare.js'
import { diffIds, type Change } from './xdiff.js'

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
  /**
   * Refine changed runs of lines by character (TX2). Default true. False
   * replaces every changed run of lines whole (TX6): what a device folds over
   * another device's version of a line (a conflict resolved, a repair) must
   * not reuse that version's characters, or a third device deleting that
   * version cuts the folded line to a fragment.
   */
  refine: boolean
}

/** Defaults for {@link DiffTextOptions}. */
export const DEFAULT_DIFF_TEXT_OPTIONS: Readonly<DiffTextOptions> = Object.freeze({
  maxWork: 2_000_000,
  refine: true,
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
 * The edits that turn `prev` into `next`. Whole lines first: the common prefix
 * and suffix are kept up to a line boundary and the middle is diffed by line
 * (the engine of MG1). Each changed run of lines is then refined by grapheme
 * cluster (TX2), but only when old and new are mostly alike (a line being
 * typed in): runs that share little or lose more than a quarter are replaced
 * whole, and character matches shorter than {@link MIN_EQUAL} between two edits
 * are absorbed; a run needing more than {@link MAX_REFINED_EDITS} character
 * edits is replaced whole. Reusing stray characters of unrelated text is what
 * garbles a note when two replicas rewrite the same lines at once (TX5). Edits
 * are ascending and non-overlapping, in `prev` offsets.
 */
export function diffText(
  prev: string,
  next: string,
  options?: Partial<DiffTextOptions>,
): TextEdit[] {
  if (typeof prev !== 'string' || typeof next !== 'string')
    throw new SkeinError(
      'INVALID_INPUT',
      `diffText: prev and next must be strings, got ${typeof prev} and ${typeof next}.`,
    )
  const { maxWork, refine: byChar } = { ...DEFAULT_DIFF_TEXT_OPTIONS, ...options }
  if (typeof byChar !== 'boolean')
    throw new SkeinError(
      'INVALID_INPUT',
      `diffText: options.refine must be true or false, got ${typeof byChar}.`,
    )
  if (typeof maxWork !== 'number' || !(maxWork >= 0))
    throw new SkeinError(
      'INVALID_INPUT',
      `diffText: options.maxWork must be a number ≥ 0, got ${String(maxWork)}.`,
    )
  if (prev === next) return []
  const budget = new WorkBudget(maxWork)
  let p = commonPrefix(prev, next)
  while (p > 0 && prev.charCodeAt(p - 1) !== NL) p--
  let s = commonSuffix(prev, next, Math.min(prev.length, next.length) - p)
  while (
    s > 0 &&
    !(prev.charCodeAt(prev.length - s - 1) === NL && next.charCodeAt(next.length - s - 1) === NL)
  )
    s--
  const a = prev.slice(p, prev.length - s)
  const b = next.slice(p, next.length - s)
  if (a.length === 0 || b.length === 0) return [{ index: p, deleteCount: a.length, insert: b }]

  const la = splitLines(a)
  const lb = splitLines(b)
  const interner = new Interner()
  let script: Change[]
  try {
    script = diffIds(interner.all(la), interner.all(lb), interner.size, new ClassCounts(), budget)
  } catch (err) {
    if (err instanceof WorkExceeded) return [{ index: p, deleteCount: a.length, insert: b }]
    throw err
  }
  const offA = lineOffsets(la)
  const offB = lineOffsets(lb)
  const out: TextEdit[] = []
  for (const x of script) {
    const from = offA[x.i1] as number
    const oldRun = a.slice(from, offA[x.i1 + x.chg1])
    const newRun = b.slice(offB[x.i2], offB[x.i2 + x.chg2])
    if (byChar) out.push(...refine(oldRun, newRun, p + from, budget))
    else out.push({ index: p + from, deleteCount: oldRun.length, insert: newRun })
  }
  return out
}

const NL = 10
/** Character matches shorter than this between two edits are absorbed into one edit. */
const MIN_EQUAL = 4
/** A changed run is refined by character only when at least this share of it is kept… */
const MIN_KEPT = 0.5
/** …and the refinement is at most this many edits (typing changes one or two places)… */
const MAX_REFINED_EDITS = 2
/**
 * …deleting at most this share of the old run (or {@link SMALL_DELETE}). A line
 * whose middle is replaced (`{T000004-pjivkk}` → `{T000005-ivsgvf}`: half of it
 * kept, as a skeleton) is a new line, not typing: refined, its new characters
 * hang on the old line's skeleton, and a replica replacing the old line at once
 * deletes the skeleton and leaves a fragment (`5-ivsgvf`, chaos seed 1999614128).
 */
const MAX_DELETED = 0.25
/** Deleting this many code units is typing (a typo, an emoji, a flag), however short the line. */
const SMALL_DELETE = 4

function lineOffsets(lines: readonly string[]): Int32Array {
  const out = new Int32Array(lines.length + 1)
  for (let i = 0; i < lines.length; i++)
    out[i + 1] = (out[i] as number) + (lines[i] as string).length
  return out
}

/** Character edits turning the run `a` into `b` (at `index` in the old text), or one whole replacement. */
function refine(a: string, b: string, index: number, budget: WorkBudget): TextEdit[] {
  const whole: TextEdit[] = [{ index, deleteCount: a.length, insert: b }]
  if (a.length === 0 || b.length === 0) return whole
  const ta = clusters(a)
  const tb = clusters(b)
  const interner = new Interner()
  let script: Change[]
  try {
    script = diffIds(interner.all(ta), interner.all(tb), interner.size, new ClassCounts(), budget)
  } catch (err) {
    if (err instanceof WorkExceeded) return whole
    throw err
  }
  const offsets = lineOffsets(ta)
  const edits: TextEdit[] = []
  for (const x of script) {
    const e: TextEdit = {
      index: offsets[x.i1] as number,
      deleteCount: (offsets[x.i1 + x.chg1] as number) - (offsets[x.i1] as number),
      insert: tb.slice(x.i2, x.i2 + x.chg2).join(''),
    }
    const last = edits[edits.length - 1]
    if (last && e.index - (last.index + last.deleteCount) < MIN_EQUAL) {
      // Absorb the short match between them: delete it and insert it back.
      const gap = a.slice(last.index + last.deleteCount, e.index)
      last.insert += gap + e.insert
      last.deleteCount = e.index + e.deleteCount - last.index
    } else edits.push(e)
  }
  const deleted = edits.reduce((n, e) => n + e.deleteCount, 0)
  if (
    edits.length > MAX_REFINED_EDITS ||
    a.length - deleted < MIN_KEPT * Math.max(a.length, b.length) ||
    deleted > Math.max(SMALL_DELETE, MAX_DELETED * a.length)
  )
    return whole
  return edits.map((e) => ({ ...e, index: index + e.index }))
}
