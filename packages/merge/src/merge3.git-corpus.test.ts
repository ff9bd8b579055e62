/**
 * MG1: merge3 against git itself. Seeded random triples are merged by
 * `git merge-file -p` and by merge3; the conflict count (git's exit status) and
 * the whole output, markers included, must be identical.
 */
import { createRng, fuzzIterations, fuzzSeed } from '@skein/core/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { gitAvailable, gitWorkdir } from './git.test.helper.js'
import { merge3 } from './merge3.js'
import type { MergeStyle } from './options.js'
import { randomLargeTriple, randomTriple, type Triple } from './triples.test.helper.js'

const hasGit = gitAvailable()
/** Thousands of git runs under SKEIN_EXTENSIVE need far more than the default 30 s. */
const TIMEOUT = fuzzIterations(60_000, 1_200_000)
if (!hasGit)
  console.warn('[merge3 git corpus] SKIPPED: no `git` binary on PATH; install git to run it.')

/** `git merge-file` exits with the conflict count, truncated to 127 (its documented cap). */
const GIT_EXIT_CAP = 127

const GIT_FLAGS: Record<MergeStyle, string[]> = {
  merge: [],
  diff3: ['--diff3'],
  zdiff3: ['--zdiff3'],
}

interface Mismatch {
  index: number
  style: MergeStyle
  triple: Triple
  git: { conflicts: number; text: string }
  ours: { conflicts: number; text: string }
}

describe.skipIf(!hasGit)('merge3 vs git merge-file (MG1)', () => {
  const git = hasGit ? gitWorkdir() : undefined
  afterAll(() => git?.dispose())

  function compare(
    styles: (i: number) => MergeStyle[],
    n: number,
    label: string,
    generate: typeof randomTriple = randomTriple,
    minConflictShare = 0.1,
  ) {
    const seed = fuzzSeed(label)
    const rng = createRng(seed)
    const mismatches: Mismatch[] = []
    let conflicted = 0
    let runs = 0
    for (let i = 0; i < n; i++) {
      const triple = generate(rng)
      for (const style of styles(i)) {
        runs++
        const g = git!.merge(triple, GIT_FLAGS[style])
        const r = merge3(triple.base, triple.ours, triple.theirs, { style })
        if (g.conflicts > 0) conflicted++
        if (
          g.conflicts !== Math.min(r.conflicts.length, GIT_EXIT_CAP) ||
          g.text !== r.text ||
          r.clean !== (g.conflicts === 0)
        )
          mismatches.push({
            index: i,
            style,
            triple,
            git: g,
            ours: { conflicts: r.conflicts.length, text: r.text },
          })
      }
    }
    if (mismatches.length)
      console.error(`[${label}] seed=${seed}`, JSON.stringify(mismatches.slice(0, 3), null, 1))
    expect(
      mismatches.length,
      `${mismatches.length} of ${runs} merges differ from git (seed ${seed})`,
    ).toBe(0)
    // The generator must really exercise conflicts, not only clean merges.
    expect(conflicted).toBeGreaterThanOrEqual(runs * minConflictShare)
    expect(runs - conflicted).toBeGreaterThanOrEqual(runs * minConflictShare)
  }

  it(
    'MG1 MG2 MG3 MG4 MG5 classification and output match git on ≥500 random triples',
    () => {
      compare(() => ['merge'], fuzzIterations(600), 'merge3 git corpus')
    },
    TIMEOUT,
  )

  it(
    'MG8 diff3 and zdiff3 conflict output matches git --diff3 / --zdiff3',
    () => {
      compare(() => ['diff3', 'zdiff3'], fuzzIterations(200), 'merge3 git corpus diff3')
    },
    TIMEOUT,
  )

  it(
    'MG1 large triples past the diff cost heuristics match git',
    () => {
      compare(() => ['merge'], fuzzIterations(40), 'merge3 git corpus large', randomLargeTriple, 0)
    },
    TIMEOUT,
  )
})
