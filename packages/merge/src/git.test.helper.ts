/** Runs the real `git merge-file` for comparison tests (Node only, test code only). */
/* eslint-disable no-restricted-imports -- test-only helper: never shipped (package "files" drops *.test.*), imported only by *.test.ts */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Triple } from './triples.test.helper.js'

/** True when a `git` binary runs. */
export function gitAvailable(): boolean {
  const r = spawnSync('git', ['--version'], { encoding: 'utf8' })
  return r.status === 0
}

export interface GitMerge {
  /** Number of conflicts (git's exit status). */
  conflicts: number
  text: string
}

/** A scratch folder for one test file; call `dispose()` in afterAll. */
export function gitWorkdir(): { merge(t: Triple, extra?: string[]): GitMerge; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'skein-merge-git-'))
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir, XDG_CONFIG_HOME: dir }
  return {
    merge(t, extra = []) {
      writeFileSync(join(dir, 'base'), t.base)
      writeFileSync(join(dir, 'ours'), t.ours)
      writeFileSync(join(dir, 'theirs'), t.theirs)
      const args = ['merge-file', '-p', ...extra]
      args.push('-L', 'ours', '-L', 'base', '-L', 'theirs', 'ours', 'base', 'theirs')
      const r = spawnSync('git', args, { cwd: dir, env, maxBuffer: 1 << 28 })
      if (r.status === null || r.status > 127)
        throw new Error(`git merge-file failed: ${r.status} ${String(r.stderr)}`)
      return { conflicts: r.status, text: r.stdout.toString('utf8') }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Hunks of `git diff --no-index -U0 --no-indent-heuristic a b` as `[i1, chg1, i2, chg2]` (0-based starts). */
export function gitDiffHunks(
  dir: string,
  a: string,
  b: string,
): [number, number, number, number][] {
  writeFileSync(join(dir, 'a'), a)
  writeFileSync(join(dir, 'b'), b)
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir, XDG_CONFIG_HOME: dir }
  const args = ['diff', '--no-index', '--no-ext-diff', '--no-color', '-U0', '--no-indent-heuristic']
  const r = spawnSync('git', [...args, '--diff-algorithm=myers', 'a', 'b'], {
    cwd: dir,
    env,
    maxBuffer: 1 << 28,
  })
  if (r.status !== 0 && r.status !== 1) throw new Error(`git diff failed: ${String(r.stderr)}`)
  const out: [number, number, number, number][] = []
  for (const m of r.stdout
    .toString('utf8')
    .matchAll(/^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/gm)) {
    const chg1 = m[2] === undefined ? 1 : Number(m[2])
    const chg2 = m[4] === undefined ? 1 : Number(m[4])
    // With zero lines, git names the line before the hunk; otherwise its first line (1-based).
    out.push([
      chg1 ? Number(m[1]) - 1 : Number(m[1]),
      chg1,
      chg2 ? Number(m[3]) - 1 : Number(m[3]),
      chg2,
    ])
  }
  return out
}
