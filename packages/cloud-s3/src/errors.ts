import { SkeinError } from '@skein/core'

interface SdkError {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
}

const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
])
const THROTTLE = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
])
const TIMEOUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])

/** The HTTP status of an SDK error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode
}

/** True when the SDK error means "no such object". */
export function isS3NotFound(err: unknown): boolean {
  const e = err as SdkError | undefined
  return (
    e?.name === 'NoSuchKey' ||
    e?.name === 'NotFound' ||
    (statusOf(err) === 404 && e?.name !== 'NoSuchBucket')
  )
}

/**
 * Maps an AWS SDK failure to a classified `SkeinError`: throttling and 5xx,
 * timeouts and dropped connections are retryable; auth, missing bucket and bad
 * requests are not.
 */
export function s3Error(err: unknown, action: string, where: string): SkeinError {
  if (err instanceof SkeinError) return err
  const e = (err ?? {}) as SdkError
  const status = statusOf(err)
  const name = e.name ?? ''
  const what = `${action} ${where}`
  const detail = `${name || e.code || 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`
  const make = (
    code: ConstructorParameters<typeof SkeinError>[0],
    todo: string,
    retryable?: boolean,
  ) =>
    new SkeinError(code, `S3 ${what} failed with ${detail}; ${todo}.`, {
      cause: err,
      ...(retryable === undefined ? {} : { retryable }),
      details: { status, name },
    })
  if (THROTTLE.has(name) || status === 429 || (status === 503 && name !== 'ServiceUnavailable'))
    return make(
      'RATE_LIMITED',
      'the server is throttling; retry later with fewer parallel transfers',
    )
  if (TIMEOUT.has(name) || NETWORK.has(e.code ?? '') || NETWORK.has(name))
    return make('TRANSIENT', 'the network or server timed out; retry')
  if (status !== undefined && status >= 500)
    return make('TRANSIENT', 'the server had an internal error; retry later')
  if (name === 'NoSuchBucket')
    return make('INVALID_INPUT', 'create the bucket or fix the bucket name')
  if (name === 'CredentialsProviderError')
    return make(
      'NOT_AUTHORIZED',
      'no S3 credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)',
    )
  if (status === 401 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch')
    return make('NOT_AUTHORIZED', 'check the access key and secret')
  if (status === 403) return make('FORBIDDEN', 'grant this key access to the bucket and prefix')
  if (status === 412 || name === 'PreconditionFailed')
    return make('PRECONDITION_FAILED', 'reread the object and retry')
  if (status === undefined && /socket|network|aborted|closed|EOF/i.test(e.message ?? ''))
    return make('TRANSIENT', 'the connection dropped; retry')
  return make('IO', 'check the endpoint, bucket and options')
}
