import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeMessageFrame, messageFramePrefix } from '@skein/protocol'
import { syncMessage, updateFrame } from './y-messages.js'

describe('updateFrame', () => {
  it('PR-Y1 builds the same bytes as a sync update wrapped in a MESSAGE frame, for every length class', () => {
    const prefix = messageFramePrefix('ws1/doc')
    for (const n of [1, 127, 128, 16_383, 16_384, 2_097_152]) {
      const update = new Uint8Array(n).map((_, i) => i & 255)
      const { frame, message } = updateFrame(prefix, update)
      const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
      expect(same(message, syncMessage(2, update))).toBe(true)
      expect(same(frame, encodeMessageFrame('ws1/doc', message))).toBe(true)
      expect(decodeFrame(frame)).toMatchObject({ doc: 'ws1/doc' })
    }
  })
})
