/**
 * Myers' O(ND) divide-and-conquer search for the middle snake, with xdiff's
 * cost heuristics (`xdiffi.c`): past a cost limit it settles for a good-enough
 * split instead of the optimal one. That keeps the cost near-linear on large
 * inputs and, because git makes the same choices, keeps our diffs identical to
 * git's (MG1). Every step is charged to a {@link WorkBudget} (MG9).
 */
import type { WorkBudget } from './budget.js'
import { bogosqrt, type DiffFile } from './prepare.js'

const MAX_COST_MIN = 256
const HEUR_MIN_COST = 256
const SNAKE_CNT = 20
const K_HEUR = 4
const LINE_MAX = 0x7fffffff

interface Split {
  i1: number
  i2: number
  minLo: boolean
  minHi: boolean
}

interface Env {
  readonly h1: Int32Array
  readonly h2: Int32Array
  readonly kvdf: Int32Array
  readonly kvdb: Int32Array
  /** Offset added to a diagonal number to index `kvdf` / `kvdb`. */
  readonly koff: number
  readonly mxcost: number
  readonly budget: WorkBudget
}

/** Finds a split point of the box (off1, off2)–(lim1, lim2); see xdiff's `xdl_split`. */
function split(
  env: Env,
  off1: number,
  lim1: number,
  off2: number,
  lim2: number,
  needMin: boolean,
  spl: Split,
): void {
  const { h1, h2, kvdf, kvdb, koff, mxcost, budget } = env
  const dmin = off1 - lim2
  const dmax = lim1 - off2
  const fmid = off1 - off2
  const bmid = lim1 - lim2
  const odd = ((fmid - bmid) & 1) !== 0
  let fmin = fmid
  let fmax = fmid
  let bmin = bmid
  let bmax = bmid
  kvdf[fmid + koff] = off1
  kvdb[bmid + koff] = lim1

  for (let ec = 1; ; ec++) {
    let gotSnake = false
    let work = 0
    if (fmin > dmin) kvdf[--fmin - 1 + koff] = -1
    else ++fmin
    if (fmax < dmax) kvdf[++fmax + 1 + koff] = -1
    else --fmax

    for (let d = fmax; d >= fmin; d -= 2) {
      const lo = kvdf[d - 1 + koff] as number
      const hi = kvdf[d + 1 + koff] as number
      let i1 = lo >= hi ? lo + 1 : hi
      const prev1 = i1
      let i2 = i1 - d
      while (i1 < lim1 && i2 < lim2 && h1[i1] === h2[i2]) {
        i1++
        i2++
      }
      work += 1 + i1 - prev1
      if (i1 - prev1 > SNAKE_CNT) gotSnake = true
      kvdf[d + koff] = i1
      if (odd && bmin <= d && d <= bmax && (kvdb[d + koff] as number) <= i1) {
        budget.spend(work)
        spl.i1 = i1
        spl.i2 = i2
        spl.minLo = spl.minHi = true
        return
      }
    }

    if (bmin > dmin) kvdb[--bmin - 1 + koff] = LINE_MAX
    else ++bmin
    if (bmax < dmax) kvdb[++bmax + 1 + koff] = LINE_MAX
    else --bmax

    for (let d = bmax; d >= bmin; d -= 2) {
      const lo = kvdb[d - 1 + koff] as number
      const hi = kvdb[d + 1 + koff] as number
      let i1 = lo < hi ? lo : hi - 1
      const prev1 = i1
      let i2 = i1 - d
      while (i1 > off1 && i2 > off2 && h1[i1 - 1] === h2[i2 - 1]) {
        i1--
        i2--
      }
      work += 1 + prev1 - i1
      if (prev1 - i1 > SNAKE_CNT) gotSnake = true
      kvdb[d + koff] = i1
      if (!odd && fmin <= d && d <= fmax && i1 <= (kvdf[d + koff] as number)) {
        budget.spend(work)
        spl.i1 = i1
        spl.i2 = i2
        spl.minLo = spl.minHi = true
        return
      }
    }
    budget.spend(work)

    if (needMin) continue

    // Past the heuristic trigger, take a diagonal that has reached far along a
    // long snake, instead of searching on for the optimal split.
    if (gotSnake && ec > HEUR_MIN_COST) {
      let best = 0
      for (let d = fmax; d >= fmin; d -= 2) {
        const dd = d > fmid ? d - fmid : fmid - d
        const i1 = kvdf[d + koff] as number
        const i2 = i1 - d
        const v = i1 - off1 + (i2 - off2) - dd
        if (
          v > K_HEUR * ec &&
          v > best &&
          off1 + SNAKE_CNT <= i1 &&
          i1 < lim1 &&
          off2 + SNAKE_CNT <= i2 &&
          i2 < lim2
        ) {
          for (let k = 1; h1[i1 - k] === h2[i2 - k]; k++) {
            if (k === SNAKE_CNT) {
              best = v
              spl.i1 = i1
              spl.i2 = i2
              break
            }
          }
        }
      }
      if (best > 0) {
        spl.minLo = true
        spl.minHi = false
        return
      }
      for (let d = bmax; d >= bmin; d -= 2) {
        const dd = d > bmid ? d - bmid : bmid - d
        const i1 = kvdb[d + koff] as number
        const i2 = i1 - d
        const v = lim1 - i1 + (lim2 - i2) - dd
        if (
          v > K_HEUR * ec &&
          v > best &&
          off1 < i1 &&
          i1 <= lim1 - SNAKE_CNT &&
          off2 < i2 &&
          i2 <= lim2 - SNAKE_CNT
        ) {
          for (let k = 0; h1[i1 + k] === h2[i2 + k]; k++) {
            if (k === SNAKE_CNT - 1) {
              best = v
              spl.i1 = i1
              spl.i2 = i2
              break
            }
          }
        }
      }
      if (best > 0) {
        spl.minLo = false
        spl.minHi = true
        return
      }
    }

    // Enough: take the furthest-reaching point found so far.
    if (ec >= mxcost) {
      let fbest = -1
      let fbest1 = -1
      for (let d = fmax; d >= fmin; d -= 2) {
        let i1 = Math.min(kvdf[d + koff] as number, lim1)
        let i2 = i1 - d
        if (lim2 < i2) {
          i1 = lim2 + d
          i2 = lim2
        }
        if (fbest < i1 + i2) {
          fbest = i1 + i2
          fbest1 = i1
        }
      }
      let bbest = LINE_MAX
      let bbest1 = LINE_MAX
      for (let d = bmax; d >= bmin; d -= 2) {
        let i1 = Math.max(off1, kvdb[d + koff] as number)
        let i2 = i1 - d
        if (i2 < off2) {
          i1 = off2 + d
          i2 = off2
        }
        if (i1 + i2 < bbest) {
          bbest = i1 + i2
          bbest1 = i1
        }
      }
      if (lim1 + lim2 - bbest < fbest - (off1 + off2)) {
        spl.i1 = fbest1
        spl.i2 = fbest - fbest1
        spl.minLo = true
        spl.minHi = false
      } else {
        spl.i1 = bbest1
        spl.i2 = bbest - bbest1
        spl.minLo = false
        spl.minHi = true
      }
      return
    }
  }
}

/**
 * Marks in `f1.changed` / `f2.changed` the records of the kept (reduced)
 * sequences that a shortest-enough edit script deletes or inserts. Iterative, so
 * deep splits cannot overflow the stack.
 */
export function compareRecords(f1: DiffFile, f2: DiffFile, budget: WorkBudget): void {
  const ndiags = f1.nreff + f2.nreff + 3
  const env: Env = {
    h1: f1.ha,
    h2: f2.ha,
    kvdf: new Int32Array(ndiags),
    kvdb: new Int32Array(ndiags),
    koff: f2.nreff + 1,
    mxcost: Math.max(bogosqrt(ndiags), MAX_COST_MIN),
    budget,
  }
  const { h1, h2 } = env
  const spl: Split = { i1: 0, i2: 0, minLo: false, minHi: false }
  // Boxes still to compare: off1, lim1, off2, lim2, needMin (0/1).
  const stack: number[] = [0, f1.nreff, 0, f2.nreff, 0]
  while (stack.length > 0) {
    const needMin = stack.pop() === 1
    let lim2 = stack.pop() as number
    let off2 = stack.pop() as number
    let lim1 = stack.pop() as number
    let off1 = stack.pop() as number
    const start = off1
    while (off1 < lim1 && off2 < lim2 && h1[off1] === h2[off2]) {
      off1++
      off2++
    }
    while (off1 < lim1 && off2 < lim2 && h1[lim1 - 1] === h2[lim2 - 1]) {
      lim1--
      lim2--
    }
    budget.spend(1 + off1 - start)
    if (off1 === lim1) {
      for (; off2 < lim2; off2++) f2.changed[(f2.rindex[off2] as number) + 1] = 1
    } else if (off2 === lim2) {
      for (; off1 < lim1; off1++) f1.changed[(f1.rindex[off1] as number) + 1] = 1
    } else {
      split(env, off1, lim1, off2, lim2, needMin, spl)
      const { i1, i2, minLo, minHi } = spl
      stack.push(i1, lim1, i2, lim2, minHi ? 1 : 0)
      stack.push(off1, i1, off2, i2, minLo ? 1 : 0)
    }
  }
}
