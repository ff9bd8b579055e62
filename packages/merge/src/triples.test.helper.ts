/**
 * Random (base, ours, theirs) triples for the git corpus and property tests.
 * Small line alphabets make repeated lines, adjacent edits and identical edits
 * on both sides common, which is where merge tools disagree.
 */
import type { Rng } from '@skein/core/testing'

export interface Triple {
  base: string
  ours: string
  theirs: string
}

/** Lines that are tricky as object keys or for byte/char handling, plus plain ones. */
const SPECIAL = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'é',
  'e\u0301',
  '日本語',
  '😀 ok',
  '  ',
]
const PLAIN = ['a', 'b', 'c', 'd', 'e', '', '}', '{', 'x = 1', '---']

type Eol = 'lf' | 'crlf' | 'mixed'

function line(rng: Rng): string {
  if (rng.chance(0.15)) return rng.pick(SPECIAL)
  if (rng.chance(0.3)) return `line ${rng.int(40)}`
  return rng.pick(PLAIN)
}

function eol(rng: Rng, mode: Eol): string {
  if (mode === 'lf') return '\n'
  if (mode === 'crlf') return '\r\n'
  return rng.chance(0.5) ? '\n' : '\r\n'
}

/** A record: a line with its terminator. */
function record(rng: Rng, mode: Eol): string {
  return line(rng) + eol(rng, mode)
}

/** One random edit in place: replace, delete, insert, or change a neighbour too. */
function edit(rng: Rng, recs: string[], mode: Eol): void {
  const at = rng.int(recs.length + 1)
  const kind = rng.int(4)
  if (kind === 0 && at < recs.length) recs[at] = record(rng, mode)
  else if (kind === 1 && at < recs.length) recs.splice(at, 1 + rng.int(2))
  else if (kind === 2)
    recs.splice(at, 0, ...Array.from({ length: 1 + rng.int(3) }, () => record(rng, mode)))
  else if (at < recs.length) {
    recs[at] = record(rng, mode)
    if (at + 1 < recs.length) recs[at + 1] = record(rng, mode)
  }
}

function derive(rng: Rng, base: string[], mode: Eol): string[] {
  const recs = [...base]
  const n = rng.int(4)
  for (let i = 0; i < n; i++) edit(rng, recs, mode)
  return recs
}

function finish(rng: Rng, recs: string[], dropFinalNewline: boolean): string {
  let text = recs.join('')
  if (dropFinalNewline || rng.chance(0.15)) text = text.replace(/\r?\n$/, '')
  return text
}

/** A random triple; roughly one in six has identical edits on both sides, one in eight an empty side. */
export function randomTriple(rng: Rng): Triple {
  const mode: Eol = rng.chance(0.6) ? 'lf' : rng.chance(0.5) ? 'crlf' : 'mixed'
  const base = Array.from({ length: rng.int(14) }, () => record(rng, mode))
  const ours = derive(rng, base, mode)
  let theirs = derive(rng, base, mode)
  if (rng.chance(0.15)) theirs = [...ours]
  else if (rng.chance(0.1)) {
    theirs = [...ours]
    edit(rng, theirs, mode)
  }
  const noFinal = rng.chance(0.1)
  const t: Triple = {
    base: finish(rng, base, noFinal),
    ours: finish(rng, ours, noFinal),
    theirs: finish(rng, theirs, noFinal),
  }
  const empty = rng.next()
  if (empty < 0.06) t.ours = ''
  else if (empty < 0.12) t.theirs = ''
  else if (empty < 0.16) t.base = ''
  return t
}

/**
 * A large triple (hundreds to thousands of lines, hundreds of edits, few
 * distinct lines or many) that drives the diff past xdiff's cost heuristics and
 * its discarding of frequent lines, where a diff can legitimately go several ways.
 */
export function randomLargeTriple(rng: Rng): Triple {
  const alphabet = rng.pick([3, 12, 200, 5000])
  let unique = 0
  // Frequent lines (braces, blanks) mixed with lines found once, as in real notes and code.
  const rec = () =>
    rng.chance(0.4)
      ? `l${rng.int(alphabet)}\n`
      : rng.chance(0.5)
        ? `u${unique++}\n`
        : rng.pick(['}\n', '\n'])
  // A quarter are note-sized giants with many scattered edits: long snakes between
  // edits trigger the "good enough split" heuristic that small inputs never reach.
  const huge = rng.chance(0.15)
  const base = Array.from({ length: huge ? 33_000 + rng.int(15_000) : 300 + rng.int(2700) }, rec)
  const side = () => {
    const recs = [...base]
    const edits = huge ? 300 + rng.int(600) : 1 + rng.int(rng.chance(0.5) ? 40 : 600)
    for (let i = 0; i < edits; i++) {
      const at = rng.int(recs.length + 1)
      const kind = rng.int(3)
      if (kind === 0 && at < recs.length) recs[at] = rec()
      else if (kind === 1) recs.splice(at, 1 + rng.int(5))
      else recs.splice(at, 0, ...Array.from({ length: 1 + rng.int(5) }, rec))
    }
    return recs.join('')
  }
  return { base: base.join(''), ours: side(), theirs: side() }
}
