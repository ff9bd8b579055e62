/** Conflict presentation, as git's `merge.conflictStyle`. */
export type MergeStyle = 'merge' | 'diff3' | 'zdiff3'

/** Labels written after the conflict markers. */
export interface MergeLabels {
  /** After `<<<<<<<`. */
  ours: string
  /** After `|||||||` (diff3 styles only). */
  base: string
  /** After `>>>>>>>`. */
  theirs: string
}

/** Options of {@link merge3}. */
export interface MergeOptions {
  /** `'merge'` (default, like git): ours and theirs only; `'diff3'` adds the base; `'zdiff3'` adds the base and moves lines common to both sides out of the conflict. */
  style: MergeStyle
  /** Marker labels. Default `ours` / `base` / `theirs`. */
  labels: MergeLabels
  /** Length of each conflict marker. Default 7, as git. */
  markerSize: number
  /**
   * Diff work bound (roughly: lines compared). Default 50 000 000: a 1 MB note
   * with hundreds of edits per side uses well under 1%; past it the merge gives up
   * on line-level detail and returns one whole-file conflict with `degraded: true`.
   */
  maxWork: number
}

/** Defaults for {@link MergeOptions}. */
export const DEFAULT_MERGE_OPTIONS: Readonly<MergeOptions> = Object.freeze({
  style: 'merge',
  labels: Object.freeze({ ours: 'ours', base: 'base', theirs: 'theirs' }),
  markerSize: 7,
  maxWork: 50_000_000,
})

/** Lines `[start, end)` of one input, 0-based. */
export interface LineRange {
  start: number
  end: number
}

/** One conflict, located on all three inputs and in the merged text. */
export interface ConflictHunk {
  /** The lines of `ours` shown in the conflict. */
  ours: LineRange
  /** The lines of `theirs` shown in the conflict. */
  theirs: LineRange
  /**
   * The base lines both sides changed. In the default style a conflict that was
   * narrowed down to the lines where the sides differ keeps the base range of the
   * whole region, so it can be wider than the hunk itself.
   */
  base: LineRange
  /** Line of the merged `text` holding the `<<<<<<<` marker (0-based). */
  markerLine: number
}

/** Result of {@link merge3}. */
export interface MergeResult {
  /** True when there is no conflict: `text` is the merged note. */
  clean: boolean
  /** Merged text; with conflict markers when `clean` is false. */
  text: string
  /** The conflicts, in text order; empty when clean. */
  conflicts: ConflictHunk[]
  /** True when the work bound was hit and the merge fell back to one whole-file conflict. */
  degraded: boolean
}
