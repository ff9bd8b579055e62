import { createHash, createHmac } from 'node:crypto'
import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** Credentials as the SDK resolves them. */
export interface FastCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string | undefined
}

/** Where and how {@link FastPut} sends. */
export interface FastPutConfig {
  /** The custom endpoint, e.g. `http://127.0.0.1:9000`. */
  endpoint: string
  bucket: string
  region: string
  /** Resolves (and refreshes) credentials: the SDK client's own provider. */
  credentials: () => Promise<FastCredentials>
  /** Clock correction in ms, as the SDK learned it from the server. */
  clockOffset: () => number
  /** Socket idle timeout in ms. */
  requestTimeoutMs: number
  /** Sockets kept per host. */
  maxSockets: number
}

/** A failed request, shaped like an SDK error so `s3Error` classifies it the same way. */
export interface HttpFailure extends Error {
  $metadata: { httpStatusCode?: number | undefined }
  code?: string | undefined
}

const ALGORITHM = 'AWS4-HMAC-SHA256'
const encodeSegment = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest()

/**
 * A single-request PutObject for S3-compatible servers at a custom endpoint
 * with path-style addressing, signed with SigV4 over one keep-alive agent. It does what the SDK's PutObject
 * does for a small, already verified body, at a fraction of its CPU per request
 * (the SDK's middleware chain costs about 1 ms per call): for thousands of small
 * notes the client was otherwise the bottleneck. AWS itself keeps the SDK path,
 * with its endpoint rules, region redirects and checksum defaults.
 */
export class FastPut {
  private readonly agent: HttpAgent
  private readonly https: boolean
  private readonly host: string
  private readonly hostname: string
  private readonly port: string
  private readonly basePath: string
  private signingKey: { scope: string; secret: string; key: Buffer } | undefined

  constructor(private readonly c: FastPutConfig) {
    const url = new URL(c.endpoint)
    this.https = url.protocol === 'https:'
    const Agent = this.https ? HttpsAgent : HttpAgent
    this.agent = new Agent({ keepAlive: true, maxSockets: c.maxSockets })
    // Path-style only (`host/bucket/key`): what MinIO, s3rver and most clones use.
    this.host = url.host
    this.hostname = url.hostname
    this.port = url.port
    this.basePath = `${url.pathname.replace(/\/+$/, '')}/${encodeSegment(c.bucket)}`
  }

  /** PUTs `body` (whose sha-256 is `sha256`) under `key` with `metadata`; returns the ETag. */
  async put(
    key: string,
    body: Buffer,
    sha256: string,
    metadata: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const creds = await this.c.credentials()
    const path = `${this.basePath}/${key.split('/').map(encodeSegment).join('/')}`
    const now = new Date(Date.now() + this.c.clockOffset())
    const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '')
    const headers: Record<string, string> = {
      host: this.host,
      'x-amz-content-sha256': sha256,
      'x-amz-date': amzDate,
    }
    for (const [k, v] of Object.entries(metadata)) headers[`x-amz-meta-${k.toLowerCase()}`] = v
    if (creds.sessionToken) headers['x-amz-security-token'] = creds.sessionToken
    const names = Object.keys(headers).sort()
    const signed = names.join(';')
    const canonical = [
      'PUT',
      path,
      '',
      ...names.map((n) => `${n}:${headers[n]?.trim() ?? ''}`),
      '',
      signed,
      sha256,
    ].join('\n')
    const scope = `${amzDate.slice(0, 8)}/${this.c.region}/s3/aws4_request`
    const toSign = [
      ALGORITHM,
      amzDate,
      scope,
      createHash('sha256').update(canonical).digest('hex'),
    ].join('\n')
    const signature = createHmac('sha256', this.keyFor(scope, creds)).update(toSign).digest('hex')
    headers.authorization = `${ALGORITHM} Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`
    headers['content-length'] = String(body.length)
    const res = await this.send(path, headers, body, signal)
    return res.etag
  }

  private keyFor(scope: string, creds: FastCredentials): Buffer {
    const k = this.signingKey
    if (k && k.scope === scope && k.secret === creds.secretAccessKey) return k.key
    const [date, region, service] = scope.split('/') as [string, string, string]
    const key = hmac(
      hmac(hmac(hmac('AWS4' + creds.secretAccessKey, date), region), service),
      'aws4_request',
    )
    this.signingKey = { scope, secret: creds.secretAccessKey, key }
    return key
  }

  private send(
    path: string,
    headers: Record<string, string>,
    body: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<{ etag: string | undefined }> {
    const request = this.https ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req = request(
        {
          hostname: this.hostname,
          port: this.port,
          method: 'PUT',
          path,
          headers,
          agent: this.agent,
          signal,
        },
        (res) => {
          if ((res.statusCode ?? 0) < 300) {
            res.resume()
            res.once('end', () => resolve({ etag: res.headers.etag }))
            res.once('error', reject)
            return
          }
          readError(res).then(reject, reject)
        },
      )
      req.setTimeout(this.c.requestTimeoutMs, () =>
        req.destroy(
          Object.assign(new Error(`no response within ${this.c.requestTimeoutMs} ms`), {
            name: 'TimeoutError',
          }),
        ),
      )
      req.once('error', reject)
      req.end(body)
    })
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    this.agent.destroy()
  }
}

/** Reads an S3 error response into an SDK-shaped error (`name` = the S3 error code). */
async function readError(res: IncomingMessage): Promise<HttpFailure> {
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  const xml = Buffer.concat(chunks).toString('utf8')
  const tag = (t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(xml)?.[1]
  const status = res.statusCode
  const err = new Error(tag('Message') ?? `HTTP ${status} ${res.statusMessage ?? ''}`.trim())
  err.name = tag('Code') ?? (status === 404 ? 'NotFound' : `Http${status}`)
  return Object.assign(err, { $metadata: { httpStatusCode: status } })
}
