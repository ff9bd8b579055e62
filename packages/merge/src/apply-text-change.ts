import type { Text as YText } from 'yjs'
import { SkeinError } from '@skein/core'
import { diffText, type DiffTextOptions, type TextEdit } from './text-diff.js'

/**
 * Turns `ytext` into `next` with the smallest practical character-level inserts
 * and deletes (see {@link diffText}), all in one transaction tagged `origin`, so
 * concurrent remote edits elsewhere in the text survive (TX1–TX4). Returns the
 * edits applied (in old-text offsets); none when the text already equals `next`.
 * `options` are {@link diffText}'s (e.g. `refine: false` to replace changed lines whole).
 *
 * @throws SkeinError `INVALID_INPUT` when `ytext` is not in a Y.Doc or `next` is not a string.
 */
export function applyTextChange(
  ytext: YText,
  next: string,
  origin?: unknown,
  options?: Partial<DiffTextOptions>,
): TextEdit[] {
  if (typeof next !== 'string')
    throw new SkeinError(
      'INVALID_INPUT',
      `applyTextChange: next must be a string, got ${typeof next}.`,
    )
  const doc = ytext.doc
  if (!doc)
    throw new SkeinError(
      'INVALID_INPUT',
      'applyTextChange: the Y.Text is not part of a Y.Doc; add it to a document before editing it.',
    )
  const edits = diffText(ytext.toJSON(), next, options)
  if (edits.length === 0) return edits
  doc.transact(() => {
    // Back to front, so each edit's offset is still valid when it is applied.
    for (let k = edits.length - 1; k >= 0; k--) {
      const e = edits[k] as TextEdit
      if (e.deleteCount > 0) ytext.delete(e.index, e.deleteCount)
      if (e.insert.length > 0) ytext.insert(e.index, e.insert)
    }
  }, origin)
  return edits
}
