/**
 * Post-processing of a diff, after xdiff's `xdl_change_compact` and
 * `xdl_build_script`: slide each run of changed lines as far as it can go
 * (joining runs it bumps into), then line it up with a change in the other file
 * when one is in reach. git does this before merging, and it decides which
 * changes are "adjacent", so we do exactly the same (MG1, MG3).
 */
import type { DiffFile } from './prepare.js'

/** One hunk of an edit script: `chg1` records at `i1` in file 1 become `chg2` records at `i2` in file 2. */
export interface Change {
  i1: number
  i2: number
  chg1: number
  chg2: number
}

/** A run of changed records `[start, end)`; empty when `start === end`. */
interface Group {
  start: number
  end: number
}

// `changed[i + 1]` holds record i, so the sentinels at -1 and nrec read as 0.
const isChanged = (f: DiffFile, i: number) => f.changed[i + 1] === 1

function groupInit(f: DiffFile, g: Group): void {
  g.start = g.end = 0
  while (isChanged(f, g.end)) g.end++
}

function groupNext(f: DiffFile, g: Group): boolean {
  if (g.end === f.nrec) return false
  g.start = g.end + 1
  g.end = g.start
  while (isChanged(f, g.end)) g.end++
  return true
}

function groupPrevious(f: DiffFile, g: Group): boolean {
  if (g.start === 0) return false
  g.end = g.start - 1
  g.start = g.end
  while (isChanged(f, g.start - 1)) g.start--
  return true
}

function slideDown(f: DiffFile, g: Group): boolean {
  if (g.end < f.nrec && f.recs[g.start] === f.recs[g.end]) {
    f.changed[g.start++ + 1] = 0
    f.changed[g.end++ + 1] = 1
    while (isChanged(f, g.end)) g.end++
    return true
  }
  return false
}

function slideUp(f: DiffFile, g: Group): boolean {
  if (g.start > 0 && f.recs[g.start - 1] === f.recs[g.end - 1]) {
    f.changed[--g.start + 1] = 1
    f.changed[--g.end + 1] = 0
    while (isChanged(f, g.start - 1)) g.start--
    return true
  }
  return false
}

function broken(what: string): never {
  throw new Error(`@skein/merge internal error: change groups out of sync (${what})`)
}

/** Slides the change groups of `f` (with `other` kept in step); see the module comment. */
export function changeCompact(f: DiffFile, other: DiffFile): void {
  const g: Group = { start: 0, end: 0 }
  const go: Group = { start: 0, end: 0 }
  groupInit(f, g)
  groupInit(other, go)
  for (;;) {
    if (g.end !== g.start) {
      let groupsize: number
      let earliestEnd: number
      let endMatchingOther: number
      do {
        groupsize = g.end - g.start
        endMatchingOther = -1
        while (slideUp(f, g)) if (!groupPrevious(other, go)) broken('sliding up')
        earliestEnd = g.end
        if (go.end > go.start) endMatchingOther = g.end
        while (slideDown(f, g)) {
          if (!groupNext(other, go)) broken('sliding down')
          if (go.end > go.start) endMatchingOther = g.end
        }
      } while (groupsize !== g.end - g.start)

      if (g.end !== earliestEnd && endMatchingOther !== -1) {
        while (go.end === go.start) {
          if (!slideUp(f, g)) broken('match disappeared')
          if (!groupPrevious(other, go)) broken('sliding to match')
        }
      }
    }
    if (!groupNext(f, g)) break
    if (!groupNext(other, go)) broken('moving to next group')
  }
}

/** Collects the change runs of both files into an edit script, in file order. */
export function buildScript(f1: DiffFile, f2: DiffFile): Change[] {
  const out: Change[] = []
  let i1 = f1.nrec
  let i2 = f2.nrec
  for (; i1 >= 0 || i2 >= 0; i1--, i2--) {
    if (isChanged(f1, i1 - 1) || isChanged(f2, i2 - 1)) {
      const l1 = i1
      const l2 = i2
      while (isChanged(f1, i1 - 1)) i1--
      while (isChanged(f2, i2 - 1)) i2--
      out.push({ i1, i2, chg1: l1 - i1, chg2: l2 - i2 })
    }
  }
  return out.reverse()
}
