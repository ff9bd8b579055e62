/**
 * Writes the merged text and the conflict list from planned hunks, after git's
 * `xdl_fill_merge_buffer`: unchanged and one-sided regions are copied verbatim;
 * conflicts get markers whose line ending follows the surrounding lines (CRLF
 * files get CRLF markers), and a side whose last line has no newline gets one
 * before the next marker (MG4, MG5, MG8).
 */
import type { ConflictHunk, MergeOptions } from './options.js'
import { CONFLICT, TAKE_OURS, TAKE_THEIRS, type Hunk } from './plan.js'

/** The three inputs as records (see `splitLines`). */
export interface RenderInput {
  base: readonly string[]
  ours: readonly string[]
  theirs: readonly string[]
}

/** 1 when line `i` of `recs` ends in CRLF (for an unterminated last line: the line before), 0 when LF, -1 when unknown. */
function eolIsCrlf(recs: readonly string[], i: number): number {
  const n = recs.length
  if (n === 0) return -1
  const endsCrlf = (s: string) => s.length > 1 && s.charCodeAt(s.length - 2) === 13
  const rec = recs[i] as string
  if (i < n - 1) return endsCrlf(rec) ? 1 : 0
  if (rec.endsWith('\n')) return endsCrlf(rec) ? 1 : 0
  if (i === 0) return -1
  return endsCrlf(recs[i - 1] as string) ? 1 : 0
}

/** Whether markers (and added newlines) of hunk `m` use CRLF: both sides' preceding lines and the base must agree. */
function needsCr(inp: RenderInput, m: Hunk): boolean {
  let cr = eolIsCrlf(inp.ours, m.i1 ? m.i1 - 1 : 0)
  if (cr) cr = eolIsCrlf(inp.theirs, m.i2 ? m.i2 - 1 : 0)
  if (cr) cr = eolIsCrlf(inp.base, 0)
  return cr > 0
}

class Output {
  readonly parts: string[] = []
  lines = 0

  /** Copies `recs[from, from + count)`; with `addNl`, terminates an unterminated last line. */
  copy(recs: readonly string[], from: number, count: number, addNl: boolean, cr: boolean): void {
    if (count < 1) return
    for (let k = from; k < from + count; k++) this.parts.push(recs[k] as string)
    this.lines += count
    if (addNl && !(recs[from + count - 1] as string).endsWith('\n'))
      this.parts.push(cr ? '\r\n' : '\n')
  }

  marker(ch: string, size: number, label: string, cr: boolean): void {
    this.parts.push(ch.repeat(size) + (label ? ' ' + label : '') + (cr ? '\r\n' : '\n'))
    this.lines++
  }
}

/** Renders `hunks` over the inputs: the merged text and one {@link ConflictHunk} per conflict. */
export function render(
  inp: RenderInput,
  hunks: readonly Hunk[],
  opts: Pick<MergeOptions, 'style' | 'labels' | 'markerSize'>,
): { text: string; conflicts: ConflictHunk[] } {
  const out = new Output()
  const conflicts: ConflictHunk[] = []
  const size = opts.markerSize
  let i = 0
  for (const m of hunks) {
    if (m.mode === CONFLICT) {
      const cr = needsCr(inp, m)
      out.copy(inp.ours, i, m.i1 - i, false, false)
      conflicts.push({
        ours: { start: m.i1, end: m.i1 + m.chg1 },
        theirs: { start: m.i2, end: m.i2 + m.chg2 },
        base: { start: m.i0, end: m.i0 + m.chg0 },
        markerLine: out.lines,
      })
      out.marker('<', size, opts.labels.ours, cr)
      out.copy(inp.ours, m.i1, m.chg1, true, cr)
      if (opts.style !== 'merge') {
        out.marker('|', size, opts.labels.base, cr)
        out.copy(inp.base, m.i0, m.chg0, true, cr)
      }
      out.marker('=', size, '', cr)
      out.copy(inp.theirs, m.i2, m.chg2, true, cr)
      out.marker('>', size, opts.labels.theirs, cr)
    } else if (m.mode === TAKE_OURS) {
      out.copy(inp.ours, i, m.i1 + m.chg1 - i, false, false)
    } else if (m.mode === TAKE_THEIRS) {
      out.copy(inp.ours, i, m.i1 - i, false, false)
      out.copy(inp.theirs, m.i2, m.chg2, false, false)
    } else {
      continue
    }
    i = m.i1 + m.chg1
  }
  out.copy(inp.ours, i, inp.ours.length - i, false, false)
  return { text: out.parts.join(''), conflicts }
}
