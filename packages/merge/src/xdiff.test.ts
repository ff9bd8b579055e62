/**
 * The line diff engine (MG1): every script is a valid edit script, and its
 * hunks are exactly the ones `git diff` (Myers, no indent heuristic) finds.
 */
import { createRng, fuzzIterations, fuzzSeed } from '@skein/core/testing'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { WorkBudget, WorkExceeded } from './budget.js'
import { gitAvailable, gitDiffHunks } from './git.test.helper.js'
import { Interner, splitLines } from './lines.js'
import { ClassCounts } from './prepare.js'
import { randomLargeTriple, randomTriple } from './triples.test.helper.js'
import { diffIds, type Change } from './xdiff.js'

function diffLines(
  a: string,
  b: string,
  maxWork = 1e9,
): { script: Change[]; la: string[]; lb: string[] } {
  const la = splitLines(a)
  const lb = splitLines(b)
  const interner = new Interner()
  const ia = interner.all(la)
  const ib = interner.all(lb)
  const script = diffIds(ia, ib, interner.size, new ClassCounts(), new WorkBudget(maxWork))
  return { script, la, lb }
}

/** True when the script is a valid edit script from `la` to `lb`: every line it leaves alone is equal. */
function isValidScript(script: Change[], la: string[], lb: string[]): boolean {
  let i = 0
  let j = 0
  for (const c of script) {
    if (c.i1 - i !== c.i2 - j || c.chg1 + c.chg2 === 0 || c.i1 < i) return false
    for (; i < c.i1; i++, j++) if (la[i] !== lb[j]) return false
    i += c.chg1
    j += c.chg2
  }
  if (la.length - i !== lb.length - j) return false
  for (; i < la.length; i++, j++) if (la[i] !== lb[j]) return false
  return true
}

describe('diffIds (MG1)', () => {
  it(
    'MG1 produces a valid edit script for random inputs',
    () => {
      const seed = fuzzSeed('xdiff valid script')
      const rng = createRng(seed)
      for (let n = 0; n < fuzzIterations(300); n++) {
        const t = n % 10 === 0 ? randomLargeTriple(rng) : randomTriple(rng)
        const { script, la, lb } = diffLines(t.base, t.ours)
        expect(script.length === 0).toBe(t.base === t.ours)
        expect(isValidScript(script, la, lb), `seed ${seed}, case ${n}`).toBe(true)
      }
    },
    fuzzIterations(30_000, 600_000),
  )

  it('MG9 stops with WorkExceeded past its budget', () => {
    const a = Array.from({ length: 2000 }, (_, i) => `${i % 7}\n`).join('')
    const b = Array.from({ length: 2000 }, (_, i) => `${(i * 3) % 7}\n`).join('')
    expect(() => diffLines(a, b, 1000)).toThrow(WorkExceeded)
    expect(diffLines(a, b).script.length).toBeGreaterThan(0)
  })
})

describe.skipIf(!gitAvailable())('diffIds vs git diff (MG1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-xdiff-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it(
    'MG1 finds the same hunks as git diff on small and large inputs',
    () => {
      const seed = fuzzSeed('xdiff vs git diff')
      const rng = createRng(seed)
      let differ = 0
      const n = fuzzIterations(150)
      for (let k = 0; k < n; k++) {
        const t = k % 5 === 0 ? randomLargeTriple(rng) : randomTriple(rng)
        const ours = diffLines(t.base, t.theirs).script.map((c) => [c.i1, c.chg1, c.i2, c.chg2])
        const theirs = gitDiffHunks(dir, t.base, t.theirs)
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ++
      }
      expect(differ, `seed ${seed}`).toBe(0)
    },
    fuzzIterations(60_000, 1_200_000),
  )
})
