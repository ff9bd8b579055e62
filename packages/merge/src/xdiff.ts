/**
 * A line (or token) diff that makes the same choices as git's default xdiff
 * Myers diff: preparation, middle-snake search with cost heuristics, then
 * change compaction (MG1). Inputs are class ids, so any tokens can be diffed.
 */
import type { WorkBudget } from './budget.js'
import { buildScript, changeCompact, type Change } from './compact.js'
import { compareRecords } from './myers.js'
import { prepare, type ClassCounts } from './prepare.js'

export type { Change } from './compact.js'

/**
 * Edit script turning `a` into `b` (class ids below `classes`); empty when they
 * are equal. Throws `WorkExceeded` when `budget` runs out.
 */
export function diffIds(
  a: Int32Array,
  b: Int32Array,
  classes: number,
  counts: ClassCounts,
  budget: WorkBudget,
): Change[] {
  const [f1, f2] = prepare(a, b, classes, counts)
  budget.spend(a.length + b.length)
  compareRecords(f1, f2, budget)
  changeCompact(f1, f2)
  changeCompact(f2, f1)
  return buildScript(f1, f2)
}
