/** Every failure kind Skein reports. Not-found is `undefined`, never an error. */
export type SkeinErrorCode =
  | 'INVALID_PATH'
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'NOT_AUTHORIZED'
  | 'FORBIDDEN'
  | 'PRECONDITION_FAILED'
  | 'CONFLICT'
  | 'TRANSIENT'
  | 'TOO_LARGE'
  | 'RATE_LIMITED'
  | 'HASH_MISMATCH'
  | 'CORRUPT'
  | 'UNSUPPORTED'
  | 'SAFETY_GUARD'
  | 'CLOSED'
  | 'IO'
  | 'INTERNAL'

/** Codes a caller may retry after a delay (the rclone-style classification). */
const RETRYABLE: ReadonlySet<SkeinErrorCode> = new Set(['TRANSIENT', 'RATE_LIMITED'])

export interface SkeinErrorOptions {
  /** The underlying error, kept for logs and debugging. */
  cause?: unknown
  /** Overrides the default retryability of the code. */
  retryable?: boolean
  /** Structured context (never secrets or document contents). */
  details?: Readonly<Record<string, unknown>>
}

/**
 * The one error class of Skein. `message` says what happened, to what, and what
 * to do; `code` is for programs.
 */
export class SkeinError extends Error {
  override readonly name = 'SkeinError'
  readonly code: SkeinErrorCode
  readonly retryable: boolean
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: SkeinErrorCode, message: string, options: SkeinErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryable = options.retryable ?? RETRYABLE.has(code)
    this.details = options.details
  }
}

/** True when `err` is a SkeinError, optionally of the given code. */
export function isSkeinError(err: unknown, code?: SkeinErrorCode): err is SkeinError {
  return err instanceof SkeinError && (code === undefined || err.code === code)
}
