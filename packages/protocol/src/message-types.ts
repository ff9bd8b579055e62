/**
 * The y-websocket message types carried inside both endpoints (SPEC.md rule PR-Y1):
 * the compatible endpoint sends them bare, the multiplexed one inside a MESSAGE frame.
 */
export const YMessageType = {
  SYNC: 0,
  AWARENESS: 1,
  AUTH: 2,
  QUERY_AWARENESS: 3,
} as const

/** y-protocols sync sub-types (first varUint after {@link YMessageType.SYNC}). */
export const YSyncType = {
  STEP1: 0,
  STEP2: 1,
  UPDATE: 2,
} as const
