import type { S3Client } from '@aws-sdk/client-s3'

/**
 * Per-request options for `client.send`: `undefined` without a signal, so the
 * client's cached middleware chain (`cacheMiddleware`) is used; with options
 * the SDK resolves the whole chain again for that request.
 */
export function sendOptions(
  signal: AbortSignal | undefined,
): { abortSignal: AbortSignal } | undefined {
  return signal ? { abortSignal: signal } : undefined
}

/** Request bodies whose sha-256 is already known (and verified) → that hash. */
export const knownPayloadHash = new WeakMap<object, string>()

/**
 * Gives SigV4 the body's sha-256 when the provider already knows it, instead of
 * letting the signer hash the body a second time. AWS checks the value against
 * the bytes it receives, so a wrong one fails loudly rather than storing bad data.
 */
export function useKnownPayloadHash(client: S3Client): void {
  client.middlewareStack.add(
    (next) => (args) => {
      const req = args.request as { headers?: Record<string, string>; body?: unknown }
      const sha =
        typeof req.body === 'object' && req.body !== null
          ? knownPayloadHash.get(req.body)
          : undefined
      if (sha && req.headers) req.headers['x-amz-content-sha256'] = sha
      return next(args)
    },
    { step: 'build', name: 'skeinKnownPayloadHash' },
  )
}
