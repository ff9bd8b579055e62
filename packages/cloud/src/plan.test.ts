import { describe, expect, it } from 'vitest'
import type { LocalFile } from './local-scan.js'
import { SyncManifest } from './manifest.js'
import { describeOps, planSync } from './plan.js'
import type { PlanInput } from './plan.js'
import type { RemoteFile } from './remote-state.js'

const H = (s: string) => s.padEnd(64, '0')
const lf = (path: string, h: string, size = 1): LocalFile => ({
  path,
  fsPath: path,
  size,
  mtimeMs: 1000,
  ino: 1,
  sha256: H(h),
})
const rf = (
  path: string,
  h: string | undefined,
  size = 1,
  etag = 'e-' + (h ?? '?'),
): RemoteFile => ({ path, size, sha256: h && H(h), mtime: 1000, etag })
function plan(
  local: LocalFile[],
  remote: RemoteFile[],
  synced: [string, string][],
  extra: Partial<PlanInput> = {},
) {
  const m = SyncManifest.empty('/nowhere')
  for (const [p, h] of synced)
    m.set(p, {
      localHash: H(h),
      remoteHash: H(h),
      localModified: 1000,
      remoteModified: 1000,
      etag: 'e-' + h,
      size: 1,
      inode: 1,
    })
  return planSync({
    local: new Map(local.map((l) => [l.path, l])),
    remote: new Map(remote.map((r) => [r.path, r])),
    manifest: m,
    mode: 'two-way',
    direction: 'up',
    compare: ['size', 'checksum'],
    modifyWindowMs: 1000,
    ...extra,
  })
}
const ops = (p: ReturnType<typeof plan>) => describeOps(p.ops)

describe('planSync two-way (rule table)', () => {
  it('PL1 unchanged on both sides: nothing', () =>
    expect(ops(plan([lf('a', 'a')], [rf('a', 'a')], [['a', 'a']]))).toEqual([]))
  it('PL2 one side changed: copy it the other way', () => {
    expect(ops(plan([lf('a', 'b')], [rf('a', 'a')], [['a', 'a']]))).toEqual(['upload a'])
    expect(ops(plan([lf('a', 'a')], [rf('a', 'b')], [['a', 'a']]))).toEqual(['download a'])
  })
  it('PL3 new on one side: copy; deleted on one side: delete on the other', () => {
    expect(ops(plan([lf('n', 'n')], [], []))).toEqual(['upload n'])
    expect(ops(plan([], [rf('n', 'n')], []))).toEqual(['download n'])
    expect(
      ops(
        plan(
          [lf('a', 'a'), lf('k', 'k')],
          [rf('k', 'k')],
          [
            ['a', 'a'],
            ['k', 'k'],
          ],
        ),
      ),
    ).toEqual(['delete-local a'])
    expect(
      ops(
        plan(
          [lf('k', 'k')],
          [rf('a', 'a'), rf('k', 'k')],
          [
            ['a', 'a'],
            ['k', 'k'],
          ],
        ),
      ),
    ).toEqual(['delete-remote a'])
  })
  it('PL4 both changed differently: conflict; to the same content: record only', () => {
    expect(ops(plan([lf('a', 'b')], [rf('a', 'c')], [['a', 'a']]))).toEqual([
      'conflict(modify-modify) a',
    ])
    expect(ops(plan([lf('a', 'b')], [rf('a', 'b')], [['a', 'a']]))).toEqual(['record a'])
    expect(ops(plan([lf('a', 'b')], [rf('a', 'c')], []))).toEqual(['conflict(create-create) a'])
  })
  it('PL5 delete vs modify keeps the modified file, reported as a conflict', () => {
    const p = plan(
      [lf('k', 'k')],
      [rf('a', 'b'), rf('k', 'k')],
      [
        ['a', 'a'],
        ['k', 'k'],
      ],
    )
    expect(ops(p)).toEqual(['download a'])
    expect(p.ops[0]).toMatchObject({
      conflict: { kind: 'delete-modify', resolution: 'kept-remote' },
    })
    const q = plan(
      [lf('a', 'b'), lf('k', 'k')],
      [rf('k', 'k')],
      [
        ['a', 'a'],
        ['k', 'k'],
      ],
    )
    expect(ops(q)).toEqual(['upload a'])
  })
  it('PL6 both deleted: forget the entry', () =>
    expect(
      ops(
        plan(
          [lf('k', 'k')],
          [rf('k', 'k')],
          [
            ['a', 'a'],
            ['k', 'k'],
          ],
        ),
      ),
    ).toEqual(['forget a']))
  it('PL7 an empty side with a non-empty manifest deletes nothing on the other side', () => {
    const p = plan(
      [lf('a', 'a'), lf('b', 'b')],
      [],
      [
        ['a', 'a'],
        ['b', 'b'],
      ],
    )
    expect(ops(p)).toEqual(['upload a', 'upload b'])
    expect(p.warnings.join()).toMatch(/remote is empty/)
    expect(ops(plan([], [rf('a', 'a')], [['a', 'a']]))).toEqual(['download a'])
  })
  it('PL8 a remote without a hash is judged by its etag against the manifest', () => {
    expect(ops(plan([lf('a', 'a')], [rf('a', undefined, 1, 'e-a')], [['a', 'a']]))).toEqual([])
    expect(ops(plan([lf('a', 'a')], [rf('a', undefined, 1, 'e-new')], [['a', 'a']]))).toEqual([
      'download a',
    ])
  })
})

describe('planSync one-way modes', () => {
  const base = { local: [lf('a', 'a'), lf('b', 'x')], remote: [rf('b', 'b'), rf('c', 'c')] }
  it('PL9 mirror makes the target equal the source; copy never deletes; move deletes the source', () => {
    expect(ops(plan(base.local, base.remote, [], { mode: 'mirror' }))).toEqual([
      'upload a',
      'upload b',
      'delete-remote c',
    ])
    expect(ops(plan(base.local, base.remote, [], { mode: 'copy' }))).toEqual([
      'upload a',
      'upload b',
    ])
    expect(ops(plan(base.local, base.remote, [], { mode: 'move' }))).toEqual([
      'upload+delete-source a',
      'upload+delete-source b',
    ])
    expect(ops(plan(base.local, base.remote, [], { mode: 'mirror', direction: 'down' }))).toEqual([
      'delete-local a',
      'download b',
      'download c',
    ])
  })
  it('PL10 compare modes decide "same file" when content is unknown', () => {
    const l = [lf('a', 'a', 5)]
    const r = [{ path: 'a', size: 5, mtime: 1000, etag: 'zz' }]
    expect(ops(plan(l, r, [], { mode: 'mirror', compare: ['size', 'modtime'] }))).toEqual([
      'record a',
    ])
    expect(ops(plan(l, r, [], { mode: 'mirror', compare: ['size', 'checksum'] }))).toEqual([
      'upload a',
    ])
    expect(
      ops(
        plan(l, [{ ...r[0]!, mtime: 9000 }], [], { mode: 'mirror', compare: ['size', 'modtime'] }),
      ),
    ).toEqual(['upload a'])
  })
})
