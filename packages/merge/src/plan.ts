/**
 * The three-way decision, after git's `xdl_do_merge` (`xmerge.c`): walk the two
 * edit scripts base→ours and base→theirs together; a change on one side only is
 * taken, identical changes on both sides are taken once, anything else that
 * overlaps or touches is a conflict (MG2, MG3). In the default style conflicts are
 * then narrowed to the lines where the sides really differ, and conflicts
 * separated by at most three lines (or by lines without letters or digits) are
 * joined, as `git merge-file` does (MG7).
 */
import type { WorkBudget } from './budget.js'
import type { MergeStyle } from './options.js'
import type { ClassCounts } from './prepare.js'
import { diffIds, type Change } from './xdiff.js'

/** Hunk modes, as in xdiff. */
export const CONFLICT = 0
export const TAKE_OURS = 1
export const TAKE_THEIRS = 2
/** A conflict whose two sides turned out identical: nothing to do. */
export const RESOLVED = 4

/** A region of the merge: `chg0` base lines at `i0` became `chg1` at `i1` in ours and `chg2` at `i2` in theirs. */
export interface Hunk {
  mode: number
  i0: number
  chg0: number
  i1: number
  chg1: number
  i2: number
  chg2: number
}

/** Everything the planner needs: the three inputs as class ids plus shared scratch. */
export interface PlanInput {
  base: Int32Array
  ours: Int32Array
  theirs: Int32Array
  /** Ours' lines as text (the "has a letter or digit" test looks at them). */
  oursLines: readonly string[]
  classes: number
  counts: ClassCounts
  budget: WorkBudget
}

function sameLines(a: Int32Array, i: number, b: Int32Array, j: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[i + k] !== b[j + k]) return false
  return true
}

function append(out: Hunk[], h: Hunk): void {
  const m = out[out.length - 1]
  if (m && (h.i1 <= m.i1 + m.chg1 || h.i2 <= m.i2 + m.chg2)) {
    if (h.mode !== m.mode) m.mode = CONFLICT
    m.chg0 = h.i0 + h.chg0 - m.i0
    m.chg1 = h.i1 + h.chg1 - m.i1
    m.chg2 = h.i2 + h.chg2 - m.i2
  } else {
    out.push(h)
  }
}

/** Walks both scripts and emits the raw hunks (identical overlapping changes emit nothing). */
function combine(inp: PlanInput, s1: Change[], s2: Change[]): Hunk[] {
  const out: Hunk[] = []
  let a = 0
  let b = 0
  while (a < s1.length && b < s2.length) {
    const x = s1[a] as Change
    const y = s2[b] as Change
    if (x.i1 + x.chg1 < y.i1) {
      const i2 = y.i2 - y.i1 + x.i1
      append(out, {
        mode: TAKE_OURS,
        i0: x.i1,
        chg0: x.chg1,
        i1: x.i2,
        chg1: x.chg2,
        i2,
        chg2: x.chg1,
      })
      a++
      continue
    }
    if (y.i1 + y.chg1 < x.i1) {
      const i1 = x.i2 - x.i1 + y.i1
      append(out, {
        mode: TAKE_THEIRS,
        i0: y.i1,
        chg0: y.chg1,
        i1,
        chg1: y.chg1,
        i2: y.i2,
        chg2: y.chg2,
      })
      b++
      continue
    }
    const identical =
      x.i1 === y.i1 &&
      x.chg1 === y.chg1 &&
      x.chg2 === y.chg2 &&
      sameLines(inp.ours, x.i2, inp.theirs, y.i2, x.chg2)
    if (!identical) {
      const off = x.i1 - y.i1
      const ffo = off + x.chg1 - y.chg1
      let i0 = x.i1
      let i1 = x.i2
      let i2 = y.i2
      if (off > 0) {
        i0 -= off
        i1 -= off
      } else {
        i2 += off
      }
      let chg0 = x.i1 + x.chg1 - i0
      let chg1 = x.i2 + x.chg2 - i1
      let chg2 = y.i2 + y.chg2 - i2
      if (ffo < 0) {
        chg0 -= ffo
        chg1 -= ffo
      } else {
        chg2 += ffo
      }
      append(out, { mode: CONFLICT, i0, chg0, i1, chg1, i2, chg2 })
    }
    const e1 = x.i1 + x.chg1
    const e2 = y.i1 + y.chg1
    if (e1 >= e2) b++
    if (e2 >= e1) a++
  }
  const nb = inp.base.length
  for (; a < s1.length; a++) {
    const x = s1[a] as Change
    const i2 = x.i1 + inp.theirs.length - nb
    append(out, {
      mode: TAKE_OURS,
      i0: x.i1,
      chg0: x.chg1,
      i1: x.i2,
      chg1: x.chg2,
      i2,
      chg2: x.chg1,
    })
  }
  for (; b < s2.length; b++) {
    const y = s2[b] as Change
    const i1 = y.i1 + inp.ours.length - nb
    append(out, {
      mode: TAKE_THEIRS,
      i0: y.i1,
      chg0: y.chg1,
      i1,
      chg1: y.chg1,
      i2: y.i2,
      chg2: y.chg2,
    })
  }
  return out
}

/** Narrows each conflict to the sub-hunks where ours and theirs differ (git's zealous refinement). */
function refine(inp: PlanInput, hunks: Hunk[]): Hunk[] {
  const out: Hunk[] = []
  for (const m of hunks) {
    if (m.mode !== CONFLICT || m.chg1 === 0 || m.chg2 === 0) {
      out.push(m)
      continue
    }
    const script = diffIds(
      inp.ours.subarray(m.i1, m.i1 + m.chg1),
      inp.theirs.subarray(m.i2, m.i2 + m.chg2),
      inp.classes,
      inp.counts,
      inp.budget,
    )
    if (script.length === 0) {
      out.push({ ...m, mode: RESOLVED })
      continue
    }
    for (const x of script)
      out.push({ ...m, i1: m.i1 + x.i1, chg1: x.chg1, i2: m.i2 + x.i2, chg2: x.chg2 })
  }
  return out
}

const ALNUM = /[A-Za-z0-9]/

/** Joins conflicts separated by at most three lines, or by lines with no ASCII letter or digit. */
function simplify(inp: PlanInput, hunks: Hunk[]): Hunk[] {
  const out: Hunk[] = []
  for (const h of hunks) {
    const m = out[out.length - 1]
    if (m && m.mode === CONFLICT && h.mode === CONFLICT) {
      const begin = m.i1 + m.chg1
      const end = h.i1
      let keepApart = end - begin > 3
      if (keepApart) {
        keepApart = false
        for (let i = begin; i < end && !keepApart; i++)
          keepApart = ALNUM.test(inp.oursLines[i] as string)
      }
      if (!keepApart) {
        const e0 = Math.max(m.i0 + m.chg0, h.i0 + h.chg0)
        m.i0 = Math.min(m.i0, h.i0)
        m.chg0 = e0 - m.i0
        m.chg1 = h.i1 + h.chg1 - m.i1
        m.chg2 = h.i2 + h.chg2 - m.i2
        continue
      }
    }
    out.push(h)
  }
  return out
}

/** zdiff3: move lines common to both sides at the start and end of a conflict out of it. */
function trimConflictEnds(inp: PlanInput, hunks: Hunk[]): void {
  const { ours, theirs } = inp
  for (const m of hunks) {
    if (m.mode !== CONFLICT) continue
    while (m.chg1 > 0 && m.chg2 > 0 && ours[m.i1] === theirs[m.i2]) {
      m.chg1--
      m.chg2--
      m.i1++
      m.i2++
    }
    while (m.chg1 > 0 && m.chg2 > 0 && ours[m.i1 + m.chg1 - 1] === theirs[m.i2 + m.chg2 - 1]) {
      m.chg1--
      m.chg2--
    }
  }
}

/**
 * Plans the merge of two edit scripts (base→ours, base→theirs). Hunks are in
 * order; regions between them are unchanged and are copied from ours.
 */
export function planMerge(inp: PlanInput, s1: Change[], s2: Change[], style: MergeStyle): Hunk[] {
  const hunks = combine(inp, s1, s2)
  if (style === 'zdiff3') {
    trimConflictEnds(inp, hunks)
    return hunks
  }
  // The diff3 style shows the base, so it keeps whole conflicts (git caps it at EAGER).
  if (style === 'diff3') return hunks
  return simplify(inp, refine(inp, hunks))
}
