import * as Y from 'yjs'
import { applyTextChange, merge3 } from '@skein/merge'
import type { ConflictPolicy } from './agent-options.js'
import { AGENT_ORIGIN } from './body-docs.js'
import type { Body } from './body-docs.js'
import { textHash } from './disk-file.js'

const FOLDED = 'folded:'
const REPAIRED = 'repaired'

/**
 * What a device folded into a body: the CRDT text it saw (`saw`, a hash), the
 * base it merged from, the text it produced, and when. Two records with the
 * same `saw` are two devices that changed the same text without seeing each
 * other (e.g. both reconnecting at once): their character ops interleave, so
 * one of them repairs the result with a proper three-way merge.
 */
export interface FoldRecord {
  device: string
  saw: string
  /** The base text it merged from (the repair's merge base). */
  base: string
  text: string
  at: number
  /**
   * The Yjs client id that made the fold's edits, and whether it replaced
   * lines whole ({@link mergedFolds}); absent in records of older agents.
   */
  client?: number
  whole?: boolean
}

function meta(body: Body): Y.Map<unknown> {
  return body.doc.getMap('meta')
}

/**
 * Turns the body's text into `next` with minimal operations and records the
 * fold in the same transaction, so others see both or neither. With `whole`,
 * changed lines are replaced whole (merge TX6): for folds over text this
 * device had not agreed on (a conflict resolved), whose characters another
 * device may be deleting at the same moment.
 */
export function foldIntoBody(
  body: Body,
  next: string,
  info: { device: string; base: string; at: number; saw?: string; whole?: boolean },
): boolean {
  const current = body.text.toJSON()
  const target = rebase(info.saw, next, current)
  if (target === undefined) return false
  next = target
  if (current === next) return true
  const saw = textHash(current)
  body.doc.transact(() => {
    applyTextChange(body.text, next, AGENT_ORIGIN, { refine: info.whole !== true })
    const rec: FoldRecord = {
      device: info.device,
      saw,
      base: info.base,
      text: next,
      at: info.at,
      client: body.doc.clientID,
      whole: info.whole === true,
    }
    meta(body).set(FOLDED + info.device, rec)
  }, AGENT_ORIGIN)
  return true
}

/**
 * `next` was computed from the text `saw`, but the body may have moved on
 * while the agent awaited (remote edits arriving during a disk write): folding
 * `next` over the current text would delete what arrived. Rebase it with a
 * three-way merge (base `saw`); undefined when that conflicts (decide again).
 */
export function rebase(saw: string | undefined, next: string, current: string): string | undefined {
  if (saw === undefined || saw === current) return next
  const m = merge3(saw, next, current)
  return m.clean ? m.text : undefined
}

/**
 * Folds that started from the same text without seeing each other, when this
 * device is the one to repair them (the largest device id of the group), else
 * undefined. Every device computes the same group, so exactly one repairs.
 */
export function concurrentFolds(body: Body, device: string): FoldRecord[] | undefined {
  const m = meta(body)
  const done = m.get(REPAIRED)
  const groups = new Map<string, FoldRecord[]>()
  for (const [k, v] of m.entries()) {
    if (!k.startsWith(FOLDED) || typeof v !== 'object' || v === null) continue
    const r = v as FoldRecord
    if (r.saw === done) continue
    const g = groups.get(r.saw) ?? []
    g.push(r)
    groups.set(r.saw, g)
  }
  for (const g of groups.values()) {
    if (g.length < 2) continue
    g.sort((a, b) => (a.device < b.device ? -1 : 1))
    if (g[g.length - 1]?.device === device) return g
  }
  return undefined
}

/**
 * Replaces interleaved concurrent folds by `next` (changed lines whole: the
 * interleaved characters are others' and must not be reused) and marks the
 * group repaired.
 */
export function repairFolds(
  body: Body,
  group: readonly FoldRecord[],
  next: string,
  device: string,
  at: number,
  computedFrom?: string,
): boolean {
  const target = rebase(computedFrom, next, body.text.toJSON())
  if (target === undefined) return false
  next = target
  const saw = textHash(body.text.toJSON())
  body.doc.transact(() => {
    applyTextChange(body.text, next, AGENT_ORIGIN, { refine: false })
    const m = meta(body)
    m.set(REPAIRED, group[0]?.saw)
    const rec: FoldRecord = {
      device,
      saw,
      base: group[0]?.base ?? '',
      text: next,
      at,
      client: body.doc.clientID,
      whole: true,
    }
    m.set(FOLDED + device, rec)
  }, AGENT_ORIGIN)
  return true
}

/**
 * The text the folds of `group` leave when nothing else touched the body:
 * each fold's edits replayed from the text they saw, under the Yjs client id
 * that made them, so concurrent inserts order as they did. Undefined when the
 * records cannot tell (a record without its client id, or one whose `saw` is
 * not its base, so the text it saw is unknown). A body equal to this holds
 * nothing but the group's folds: a line no fold produced is one they
 * interleaved (a typing fold refined into a line another device replaced), not
 * a third device's edit, and a repair may replace it.
 */
export function mergedFolds(group: readonly FoldRecord[]): string | undefined {
  const first = group[0]
  if (!first) return undefined
  const seen = group.map((r) => r.client)
  // records come from other devices: anything unexpected means "cannot tell"
  for (const r of group)
    if (
      !Number.isInteger(r.client) ||
      (r.client as number) < 0 ||
      (r.client as number) > 0xffff_ffff ||
      typeof r.whole !== 'boolean' ||
      typeof r.base !== 'string' ||
      typeof r.text !== 'string' ||
      r.base !== first.base ||
      r.saw !== first.saw ||
      textHash(r.base) !== r.saw ||
      seen.indexOf(r.client) !== seen.lastIndexOf(r.client)
    )
      return undefined
  const docs: Y.Doc[] = []
  const doc = (client?: number): Y.Doc => {
    const d = new Y.Doc()
    if (client !== undefined) d.clientID = client
    docs.push(d)
    return d
  }
  try {
    // the text they saw, under a client id none of them has
    const origin = doc()
    while (seen.includes(origin.clientID)) origin.clientID = (origin.clientID + 1) >>> 0
    origin.getText('body').insert(0, first.base)
    const start = Y.encodeStateAsUpdate(origin)
    const merged = doc()
    Y.applyUpdate(merged, start)
    for (const r of group) {
      const d = doc(r.client)
      Y.applyUpdate(d, start)
      applyTextChange(d.getText('body'), r.text, AGENT_ORIGIN, { refine: r.whole !== true })
      Y.applyUpdate(merged, Y.encodeStateAsUpdate(d))
    }
    return merged.getText('body').toJSON()
  } catch {
    return undefined
  } finally {
    for (const d of docs) d.destroy()
  }
}

/**
 * What a repair of `group` puts in the body (`current` now): the group's texts
 * merged three-way from their base, newest first; a conflict follows the policy
 * (`conflicted`: the caller saves copies for the sides not kept). Undefined when
 * the body holds edits outside the group that the repair would drop: lines no
 * fold of the group explains (an editor typing, a device whose fold saw other
 * text) must survive it — unless the body is exactly what the group's folds
 * leave ({@link mergedFolds}): then such a line is their interleaving.
 */
export function planRepair(
  group: readonly FoldRecord[],
  current: string,
  device: string,
  policy: ConflictPolicy,
): { target: string; conflicted: boolean } | undefined {
  const base = group[0]?.base ?? ''
  const mine = group.find((r) => r.device === device)
  const ordered = [...group].sort((a, b) => b.at - a.at) // newest first
  let target = ordered[0]?.text ?? current
  let conflicted = false
  for (const r of ordered.slice(1)) {
    const m = merge3(base, target, r.text, {
      labels: { ours: 'newer', base: 'base', theirs: r.device },
    })
    if (m.clean) target = m.text
    else {
      conflicted = true
      if (policy === 'markers') target = m.text
      else if (policy === 'ours' && mine) target = mine.text
      else if (policy === 'theirs') target = r.device === device ? target : r.text
    }
  }
  const foreign = unexplainedLines(current, [target, base, ...group.map((r) => r.text)])
  // the replay (Yjs documents) only when some line needs explaining
  if (foreign.length === 0 || mergedFolds(group) === current) return { target, conflicted }
  const m = merge3(base, current, target, {
    labels: { ours: 'current', base: 'base', theirs: 'repaired' },
  })
  const kept = m.clean ? unexplainedLines(m.text, []) : []
  if (m.clean && foreign.every((l) => kept.includes(l))) return { target: m.text, conflicted }
  return undefined
}

/**
 * Lines of `text` found in none of `explained` (as a multiset: a line counted
 * twice in `text` needs two occurrences). With no `explained`, all lines.
 */
function unexplainedLines(text: string, explained: readonly string[]): string[] {
  const budget = new Map<string, number>()
  for (const t of explained)
    for (const [l, n] of countLines(t)) budget.set(l, Math.max(budget.get(l) ?? 0, n))
  const out: string[] = []
  for (const [l, n] of countLines(text)) {
    const extra = n - (budget.get(l) ?? 0)
    for (let i = 0; i < extra; i++) out.push(l)
  }
  return out
}

function countLines(text: string): Map<string, number> {
  const m = new Map<string, number>()
  for (const l of text.split('\n')) if (l !== '') m.set(l, (m.get(l) ?? 0) + 1)
  return m
}
