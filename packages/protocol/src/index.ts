export { CloseCode, FATAL_CLOSE_CODES, closeReason } from './close-codes.js'
export type { CloseCodeValue } from './close-codes.js'
export { parseDocName, workspaceOfDoc, MAX_DOC_NAME_LENGTH } from './doc-name.js'
export type { DocName } from './doc-name.js'
export { YMessageType, YSyncType } from './message-types.js'
export {
  FrameType,
  SUBSCRIBE_QUIET,
  encodeFrame,
  encodeMessageFrame,
  messageFramePrefix,
  encodeSyncFrame,
  decodeFrame,
} from './frame.js'
export type { Frame, FeedEntry, Scope } from './frame.js'
export { signToken, verifyToken } from './token.js'
export type { TokenClaims, TokenCheck } from './token.js'
/** The path of the multiplexed endpoint. */
export const MUX_PATH = '/_skein/v1'
/** The path prefix of the blob endpoint: `${BLOB_PATH}/<workspace>/<sha256>`. */
export const BLOB_PATH = '/_skein/v1/blobs'
