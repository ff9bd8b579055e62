import { describe, expect, it } from 'vitest'
import { DEFAULT_SYNC_CLIENT_OPTIONS, backoffDelay, validateClientOptions } from './options.js'
import type { SyncClientOptions } from './options.js'

describe('backoff', () => {
  it('PR-R1 full jitter: uniform below min(max, initial·2^attempt), capped at 30 s', () => {
    const o = { initialBackoffMs: 250, maxBackoffMs: 30_000 }
    expect(backoffDelay(0, { ...o, random: () => 0.999 })).toBe(249)
    expect(backoffDelay(3, { ...o, random: () => 0.5 })).toBe(1000)
    expect(backoffDelay(50, { ...o, random: () => 0.999 })).toBe(29_970)
    expect(backoffDelay(50, { ...o, random: () => 0 })).toBe(0)
  })
})

describe('option validation', () => {
  const withOpts = (o: Partial<SyncClientOptions>): SyncClientOptions => ({
    ...DEFAULT_SYNC_CLIENT_OPTIONS,
    url: 'ws://127.0.0.1:8787',
    ...o,
  })

  it('PR-R5 heartbeat options: 0 disables, bad values are refused naming the option', () => {
    expect(() => validateClientOptions(withOpts({}))).not.toThrow()
    expect(() => validateClientOptions(withOpts({ heartbeatMs: 0 }))).not.toThrow()
    expect(() =>
      validateClientOptions(withOpts({ heartbeatMs: 300, heartbeatTimeoutMs: 300 })),
    ).not.toThrow()
    for (const heartbeatMs of [-1, Number.NaN, Infinity, 2 ** 31, '15000' as unknown as number]) {
      expect(() => validateClientOptions(withOpts({ heartbeatMs }))).toThrow(
        /SyncClient option heartbeatMs must be a number of milliseconds from 0 to 2147483647 \(0 disables the heartbeat\)/,
      )
    }
    for (const heartbeatTimeoutMs of [0, -5, Number.NaN, 2 ** 31, undefined as unknown as number]) {
      expect(() => validateClientOptions(withOpts({ heartbeatTimeoutMs }))).toThrow(
        /SyncClient option heartbeatTimeoutMs must be a number of milliseconds from 1 to/,
      )
    }
  })
})
