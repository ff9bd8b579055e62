export { merge3 } from './merge3.js'
export { DEFAULT_MERGE_OPTIONS } from './options.js'
export type {
  ConflictHunk,
  LineRange,
  MergeLabels,
  MergeOptions,
  MergeResult,
  MergeStyle,
} from './options.js'
export { applyTextChange } from './apply-text-change.js'
export { diffText, DEFAULT_DIFF_TEXT_OPTIONS } from './text-diff.js'
export type { TextEdit, DiffTextOptions } from './text-diff.js'
export { isText, DEFAULT_IS_TEXT_OPTIONS } from './is-text.js'
export type { IsTextOptions } from './is-text.js'
