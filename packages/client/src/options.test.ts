import { describe, expect, it } from 'vitest'
import { backoffDelay } from './options.js'

describe('backoff', () => {
  it('PR-R1 full jitter: uniform below min(max, initial·2^attempt), capped at 30 s', () => {
    const o = { initialBackoffMs: 250, maxBackoffMs: 30_000 }
    expect(backoffDelay(0, { ...o, random: () => 0.999 })).toBe(249)
    expect(backoffDelay(3, { ...o, random: () => 0.5 })).toBe(1000)
    expect(backoffDelay(50, { ...o, random: () => 0.999 })).toBe(29_970)
    expect(backoffDelay(50, { ...o, random: () => 0 })).toBe(0)
  })
})
