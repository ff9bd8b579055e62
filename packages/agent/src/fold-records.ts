import type * as Y from 'yjs'
import { applyTextChange, merge3 } from '@skein/merge'
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
    const rec: FoldRecord = { device: info.device, saw, base: info.base, text: next, at: info.at }
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
    const rec: FoldRecord = { device, saw, base: group[0]?.base ?? '', text: next, at }
    m.set(FOLDED + device, rec)
  }, AGENT_ORIGIN)
  return true
}
