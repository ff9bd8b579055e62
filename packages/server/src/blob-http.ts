/**
 * `PUT/GET/HEAD /_skein/v1/blobs/<workspace>/<sha256>` (SPEC.md PR-B1…B3):
 * streamed both ways, size-capped, hash verified by the store before it is visible.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { isSkeinError } from '@skein/core'
import type { BlobStore, ContentHash } from '@skein/core'
import { parseDocName } from '@skein/protocol'
import { allows, authorize } from './auth.js'
import type { SyncServerOptions } from './options.js'

const HASH = /^[0-9a-f]{64}$/

function reply(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

async function* capped(req: IncomingMessage, max: number): AsyncGenerator<Uint8Array> {
  let n = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length
    if (n > max) throw Object.assign(new Error('blob too large'), { tooLarge: true })
    yield chunk
  }
}

/** Serves one blob request; `rest` is the path after the blob prefix. */
export async function handleBlob(
  req: IncomingMessage,
  res: ServerResponse,
  rest: string,
  url: URL,
  options: SyncServerOptions,
): Promise<void> {
  const store: BlobStore | undefined = options.blobs
  const [workspace = '', hash = '', ...extra] = rest.split('/')
  if (!store) return reply(res, 404, { error: 'this server keeps no blobs' })
  if (extra.length || !parseDocName(workspace) || workspace.includes('/') || !HASH.test(hash)) {
    return reply(res, 400, { error: 'expected /_skein/v1/blobs/<workspace>/<sha256 hex>' })
  }
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
  const access = await authorize(options.auth, bearer ?? url.searchParams.get('token') ?? undefined)
  if (!access) return reply(res, 401, { error: 'missing, invalid or expired token' })
  if (!allows(access, workspace))
    return reply(res, 403, { error: 'token is for another workspace' })
  const h = hash as ContentHash
  if (req.method === 'PUT') {
    if (access.scope !== 'write') return reply(res, 403, { error: 'read-only token' })
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (declared > options.maxBlobBytes) {
      res.setHeader('connection', 'close')
      return reply(res, 413, { error: 'blob too large' })
    }
    try {
      const info = await store.put(workspace, h, capped(req, options.maxBlobBytes))
      return reply(res, 201, info)
    } catch (err) {
      if (isSkeinError(err, 'HASH_MISMATCH')) return reply(res, 422, { error: err.message })
      if ((err as { tooLarge?: boolean }).tooLarge) {
        res.setHeader('connection', 'close')
        return reply(res, 413, { error: 'blob too large' })
      }
      throw err
    }
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const blob =
      req.method === 'GET' ? await store.get(workspace, h) : await store.head(workspace, h)
    if (!blob) return reply(res, 404, { error: 'no such blob' })
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': blob.size,
      etag: `"${hash}"`,
      'cache-control': 'private, max-age=31536000, immutable',
    })
    const body = (blob as { body?: AsyncIterable<Uint8Array> }).body
    if (!body) return void res.end()
    await pipeline(Readable.from(body), res)
    return
  }
  res.setHeader('allow', 'GET, HEAD, PUT')
  return reply(res, 405, { error: 'method not allowed' })
}
