import { SkeinError } from '@skein/core'
import { WorkBudget, WorkExceeded } from './budget.js'
import { Interner, splitLines } from './lines.js'
import {
  DEFAULT_MERGE_OPTIONS,
  type MergeOptions,
  type MergeResult,
  type MergeStyle,
} from './options.js'
import { planMerge, CONFLICT, type Hunk } from './plan.js'
import { ClassCounts } from './prepare.js'
import { render, type RenderInput } from './render.js'
import { diffIds } from './xdiff.js'

const STYLES: ReadonlySet<MergeStyle> = new Set(['merge', 'diff3', 'zdiff3'])

function resolveOptions(options: Partial<MergeOptions> | undefined): MergeOptions {
  const opts: MergeOptions = {
    ...DEFAULT_MERGE_OPTIONS,
    ...options,
    labels: { ...DEFAULT_MERGE_OPTIONS.labels, ...options?.labels },
  }
  if (!STYLES.has(opts.style))
    throw new SkeinError(
      'INVALID_INPUT',
      `merge3: unknown style ${JSON.stringify(opts.style)}; use 'merge', 'diff3' or 'zdiff3'.`,
    )
  if (!Number.isInteger(opts.markerSize) || opts.markerSize < 1)
    throw new SkeinError('INVALID_INPUT', `merge3: markerSize must be a positive integer.`)
  for (const [k, v] of Object.entries(opts.labels))
    if (typeof v !== 'string' || /[\r\n]/.test(v))
      throw new SkeinError('INVALID_INPUT', `merge3: label "${k}" must be a single-line string.`)
  return opts
}

const clean = (text: string): MergeResult => ({ clean: true, text, conflicts: [], degraded: false })

/**
 * The fallback past the work bound: lines common to all three inputs at the start
 * and end stay, everything between is one conflict (MG9).
 */
function coarseHunk(base: Int32Array, ours: Int32Array, theirs: Int32Array): Hunk {
  const n0 = base.length
  const n1 = ours.length
  const n2 = theirs.length
  let head = 0
  while (head < Math.min(n0, n1, n2) && base[head] === ours[head] && ours[head] === theirs[head])
    head++
  let tail = 0
  const room = Math.min(n0, n1, n2) - head
  while (
    tail < room &&
    base[n0 - 1 - tail] === ours[n1 - 1 - tail] &&
    ours[n1 - 1 - tail] === theirs[n2 - 1 - tail]
  )
    tail++
  return {
    mode: CONFLICT,
    i0: head,
    chg0: n0 - head - tail,
    i1: head,
    chg1: n1 - head - tail,
    i2: head,
    chg2: n2 - head - tail,
  }
}

/**
 * Three-way merges `ours` and `theirs`, both derived from `base`, line by line,
 * with the result `git merge-file -p ours base theirs` gives (SPEC.md MG1–MG9).
 *
 * A conflict leaves git-style markers in `text` and is listed in `conflicts`
 * with its line ranges. Inputs are never normalised: CRLF, a missing final
 * newline and any Unicode come out as they went in. Past `maxWork` the merge
 * returns one coarse conflict and `degraded: true` instead of taking unbounded
 * time.
 *
 * @throws SkeinError `INVALID_INPUT` when an input is not a string or an option is invalid.
 */
export function merge3(
  base: string,
  ours: string,
  theirs: string,
  options?: Partial<MergeOptions>,
): MergeResult {
  for (const [name, v] of [
    ['base', base],
    ['ours', ours],
    ['theirs', theirs],
  ] as const)
    if (typeof v !== 'string')
      throw new SkeinError('INVALID_INPUT', `merge3: ${name} must be a string, got ${typeof v}.`)
  const opts = resolveOptions(options)
  // git returns the other side verbatim when one side has no change (MG2).
  if (ours === base) return clean(theirs)
  if (theirs === base || ours === theirs) return clean(ours)

  const lines: RenderInput = {
    base: splitLines(base),
    ours: splitLines(ours),
    theirs: splitLines(theirs),
  }
  const interner = new Interner()
  const ids = {
    base: interner.all(lines.base),
    ours: interner.all(lines.ours),
    theirs: interner.all(lines.theirs),
  }
  const counts = new ClassCounts()
  const budget = new WorkBudget(opts.maxWork)
  let hunks: Hunk[]
  let degraded = false
  try {
    const s1 = diffIds(ids.base, ids.ours, interner.size, counts, budget)
    const s2 = diffIds(ids.base, ids.theirs, interner.size, counts, budget)
    const input = { ...ids, oursLines: lines.ours, classes: interner.size, counts, budget }
    hunks = planMerge(input, s1, s2, opts.style)
  } catch (err) {
    if (!(err instanceof WorkExceeded)) throw err
    hunks = [coarseHunk(ids.base, ids.ours, ids.theirs)]
    degraded = true
  }
  const { text, conflicts } = render(lines, hunks, opts)
  return { clean: conflicts.length === 0, text, conflicts, degraded }
}
