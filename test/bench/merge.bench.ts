/**
 * @skein/merge: merge3 on 10 KB / 100 KB / 1 MB notes with 1% of lines changed
 * per side, next to `git merge-file` on the same files; applyTextChange on a
 * 100 KB Y.Text with one 10-character edit.
 */
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRng, type Rng } from '@skein/core/testing'
import { applyTextChange, merge3 } from '@skein/merge'
import * as Y from 'yjs'
import { defineScenarios, timeIt, type BenchContext, type Scenario } from './harness.js'

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.split(
  ' ',
)

function noteLine(rng: Rng, i: number): string {
  if (i % 20 === 0) return `## Section ${i / 20}\n`
  if (i % 7 === 0) return '\n'
  const n = 4 + rng.int(8)
  return `${Array.from({ length: n }, () => rng.pick(WORDS)).join(' ')} ${i}\n`
}

/** A markdown-ish note of about `bytes`, and two sides each changing 1% of its lines. */
function makeTriple(bytes: number, seed: number) {
  const rng = createRng(seed)
  const base: string[] = []
  let size = 0
  while (size < bytes) {
    const l = noteLine(rng, base.length)
    base.push(l)
    size += l.length
  }
  const side = (tag: string) => {
    const recs = [...base]
    const edits = Math.max(1, Math.round(base.length / 100))
    for (let k = 0; k < edits; k++) {
      const at = rng.int(recs.length)
      const kind = rng.int(3)
      if (kind === 0) recs[at] = `${tag} edit ${k}\n`
      else if (kind === 1) recs.splice(at, 1)
      else recs.splice(at, 0, `${tag} insert ${k}\n`)
    }
    return recs.join('')
  }
  return { base: base.join(''), ours: side('ours'), theirs: side('theirs'), lines: base.length }
}

function gitMerge(dir: string): number {
  const r = spawnSync('git', ['merge-file', '-p', 'ours', 'base', 'theirs'], {
    cwd: dir,
    maxBuffer: 1 << 28,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir },
  })
  if (r.status === null || r.status > 127)
    throw new Error(`git merge-file failed: ${String(r.stderr)}`)
  return r.status
}

function mergeScenario(label: string, bytes: number, runs: number, gitRuns: number): Scenario {
  return {
    name: `merge3-${label}`,
    description: `merge3 on a ${label} note, 1% of lines changed per side, vs git merge-file`,
    async run(ctx: BenchContext) {
      const t = makeTriple(bytes, 42)
      const n = ctx.full ? runs * 3 : runs
      const result = merge3(t.base, t.ours, t.theirs)
      const samples = await timeIt(n, () => merge3(t.base, t.ours, t.theirs), 3)
      const notes = [
        `${t.lines} lines, ${t.base.length} chars; result: ${result.conflicts.length} conflicts, degraded=${result.degraded}`,
      ]
      const dir = await ctx.tmpDir()
      await Promise.all(
        (['base', 'ours', 'theirs'] as const).map((f) => writeFile(join(dir, f), t[f])),
      )
      const peers: Record<string, number[]> = {}
      if (spawnSync('git', ['--version']).status === 0) {
        const gitConflicts = gitMerge(dir)
        notes.push(`git merge-file: ${gitConflicts} conflicts (ours: ${result.conflicts.length})`)
        peers['git merge-file'] = await timeIt(
          ctx.full ? gitRuns * 3 : gitRuns,
          () => gitMerge(dir),
          2,
        )
        // git pays for a process start; measure it on empty files so the ratio can be read fairly.
        const empty = await ctx.tmpDir()
        await Promise.all(['base', 'ours', 'theirs'].map((f) => writeFile(join(empty, f), '')))
        peers['git merge-file (empty files: process start-up)'] = await timeIt(
          gitRuns,
          () => gitMerge(empty),
          2,
        )
      } else notes.push('git not found: no peer figures')
      return {
        metrics: [{ name: 'merge time', unit: 'ms', samples, peers }],
        notes,
      }
    },
  }
}

const applyScenario: Scenario = {
  name: 'applyTextChange-100KB',
  description: 'applyTextChange on a 100 KB Y.Text with one 10-character edit',
  async run(ctx) {
    const rng = createRng(7)
    const lines: string[] = []
    for (let size = 0; size < 100_000;) {
      const l = noteLine(rng, lines.length)
      lines.push(l)
      size += l.length
    }
    const a = lines.join('')
    const mid = a.length >> 1
    const b = a.slice(0, mid) + 'ABCDEFGHIJ' + a.slice(mid + 10)
    const doc = new Y.Doc()
    const text = doc.getText('body')
    text.insert(0, a)
    const updateBytes: number[] = []
    doc.on('update', (u: Uint8Array) => updateBytes.push(u.length))
    let flip = false
    const n = ctx.full ? 600 : 200
    const samples = await timeIt(n, () => {
      flip = !flip
      applyTextChange(text, flip ? b : a)
    })
    return {
      metrics: [
        { name: 'apply time', unit: 'ms', samples },
        { name: 'Yjs update size', unit: 'bytes', samples: updateBytes },
      ],
      notes: [
        `text ${a.length} chars; each run alternates between two versions differing in 10 chars`,
      ],
    }
  },
}

export default defineScenarios(
  mergeScenario('10KB', 10_000, 300, 40),
  mergeScenario('100KB', 100_000, 100, 30),
  mergeScenario('1MB', 1_000_000, 30, 15),
  applyScenario,
)
