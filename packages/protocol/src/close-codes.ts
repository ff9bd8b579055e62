/**
 * WebSocket close codes used by Skein servers (SPEC.md rule PR-C1). 4000–4999 is
 * the application range; the last three digits mirror the nearest HTTP status so
 * the meaning is guessable from the number alone.
 */
export const CloseCode = {
  /** Normal closure (the peer asked to close). */
  NORMAL: 1000,
  /** The server is shutting down; reconnect later. */
  GOING_AWAY: 1001,
  /** A frame could not be decoded, or violated the protocol. */
  BAD_FRAME: 4400,
  /** Missing, malformed, wrongly signed or expired token. Do not retry with the same token. */
  UNAUTHORIZED: 4401,
  /** The token is valid but does not grant this document or operation. */
  FORBIDDEN: 4403,
  /** No ping answer within the idle timeout. */
  IDLE_TIMEOUT: 4408,
  /** An update claimed a Yjs client id owned by another live session. */
  FORGED_CLIENT: 4409,
  /** A frame or awareness state exceeded the configured size limit. */
  TOO_LARGE: 4413,
  /** A Yjs update failed validation (it would not apply cleanly). */
  INVALID_UPDATE: 4422,
  /** Too many frames per second. */
  RATE_LIMITED: 4429,
  /** Too many documents subscribed on one connection. */
  TOO_MANY_DOCS: 4430,
  /** The client did not read fast enough; its send buffer passed the bound. */
  SLOW_CONSUMER: 4508,
  /** The server failed internally; retry later. */
  INTERNAL: 4500,
} as const

/** One of the {@link CloseCode} values. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode]

/** Close codes after which a client must stop reconnecting (SPEC.md rule PR-C2). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.UNAUTHORIZED,
  CloseCode.FORBIDDEN,
])

/** A short human reason for a close code (close reasons are limited to 123 bytes). */
export function closeReason(code: number): string {
  for (const [name, value] of Object.entries(CloseCode)) {
    if (value === code) return name.toLowerCase().replace(/_/g, ' ')
  }
  return 'closed'
}
