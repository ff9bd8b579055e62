/**
 * Diff preparation, after git's xdiff (`xprepare.c`): trim the common head and
 * tail, then set aside lines that cannot take part in a match so the O(ND) search
 * only sees the interesting part. The choices made here shape which of several
 * equally short diffs is found, so they follow xdiff exactly (MG1).
 */

/** One side of a diff: records as class ids plus the bookkeeping the search needs. */
export interface DiffFile {
  /** Class id of every record. */
  readonly recs: Int32Array
  readonly nrec: number
  /** `changed[i + 1]` is 1 when record `i` is not matched; slots 0 and `nrec + 1` stay 0. */
  readonly changed: Uint8Array
  /** Record index of each record kept for the search. */
  readonly rindex: Int32Array
  /** Class id of each record kept for the search. */
  readonly ha: Int32Array
  nreff: number
  dstart: number
  dend: number
}

/** Lines that match more often than this are "multi-match" candidates for discarding. */
const MAX_EQLIMIT = 1024
/** How far the multi-match scan looks around a line. */
const SIMSCAN_WINDOW = 100
/** Ratio used to decide whether a multi-match line sits inside a run of discards. */
const KPDIS_RUN = 4

/** xdiff's cheap integer square-root bound: the power of two with 4^k > n. */
export function bogosqrt(n: number): number {
  let i = 1
  for (; n > 0; n = Math.floor(n / 4)) i *= 2
  return i
}

function newFile(recs: Int32Array): DiffFile {
  const n = recs.length
  return {
    recs,
    nrec: n,
    changed: new Uint8Array(n + 2),
    rindex: new Int32Array(n + 1),
    ha: new Int32Array(n + 1),
    nreff: 0,
    dstart: 0,
    dend: n - 1,
  }
}

function trimEnds(f1: DiffFile, f2: DiffFile): void {
  const r1 = f1.recs
  const r2 = f2.recs
  const lim = Math.min(f1.nrec, f2.nrec)
  let i = 0
  while (i < lim && r1[i] === r2[i]) i++
  f1.dstart = f2.dstart = i
  const rest = lim - i
  let j = 0
  while (j < rest && r1[f1.nrec - 1 - j] === r2[f2.nrec - 1 - j]) j++
  f1.dend = f1.nrec - j - 1
  f2.dend = f2.nrec - j - 1
}

/** True when the multi-match line `i` sits in a run dominated by unmatched lines. */
function cleanMmatch(dis: Uint8Array, i: number, s: number, e: number): boolean {
  if (i - s > SIMSCAN_WINDOW) s = i - SIMSCAN_WINDOW
  if (e - i > SIMSCAN_WINDOW) e = i + SIMSCAN_WINDOW
  let rdis0 = 0
  let rpdis0 = 1
  for (let r = 1; i - r >= s; r++) {
    const v = dis[i - r]
    if (v === 0) rdis0++
    else if (v === 2) rpdis0++
    else break
  }
  if (rdis0 === 0) return false
  let rdis1 = 0
  let rpdis1 = 1
  for (let r = 1; i + r <= e; r++) {
    const v = dis[i + r]
    if (v === 0) rdis1++
    else if (v === 2) rpdis1++
    else break
  }
  if (rdis1 === 0) return false
  rdis1 += rdis0
  rpdis1 += rpdis0
  return rpdis1 * KPDIS_RUN < rpdis1 + rdis1
}

/** Scratch occurrence counters indexed by class id, reused across diffs and left zeroed. */
export class ClassCounts {
  private counts = new Int32Array(64)

  ensure(classes: number): void {
    if (this.counts.length < classes)
      this.counts = new Int32Array(Math.max(classes, 2 * this.counts.length))
  }

  add(recs: Int32Array, delta: 1 | -1): void {
    const c = this.counts
    for (let i = 0; i < recs.length; i++) c[recs[i] as number]! += delta
  }

  get(id: number): number {
    return this.counts[id] as number
  }
}

function classify(f: DiffFile, other: Int32Array, counts: ClassCounts): Uint8Array {
  const dis = new Uint8Array(f.nrec + 1)
  const mlim = Math.min(bogosqrt(f.nrec), MAX_EQLIMIT)
  counts.add(other, 1)
  for (let i = f.dstart; i <= f.dend; i++) {
    const nm = counts.get(f.recs[i] as number)
    dis[i] = nm === 0 ? 0 : nm >= mlim ? 2 : 1
  }
  counts.add(other, -1)
  return dis
}

function keep(f: DiffFile, dis: Uint8Array): void {
  let nreff = 0
  for (let i = f.dstart; i <= f.dend; i++) {
    const d = dis[i]
    if (d === 1 || (d === 2 && !cleanMmatch(dis, i, f.dstart, f.dend))) {
      f.rindex[nreff] = i
      f.ha[nreff] = f.recs[i] as number
      nreff++
    } else {
      f.changed[i + 1] = 1
    }
  }
  f.nreff = nreff
}

/**
 * Builds both diff files for `a` → `b` (class ids; `classes` bounds them) with
 * the common ends trimmed and unmatchable lines already marked as changed.
 */
export function prepare(
  a: Int32Array,
  b: Int32Array,
  classes: number,
  counts: ClassCounts,
): [DiffFile, DiffFile] {
  const f1 = newFile(a)
  const f2 = newFile(b)
  counts.ensure(classes)
  trimEnds(f1, f2)
  const dis1 = classify(f1, b, counts)
  const dis2 = classify(f2, a, counts)
  keep(f1, dis1)
  keep(f2, dis2)
  return [f1, f2]
}
