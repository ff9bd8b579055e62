import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FolderProvider, type CloudSyncProvider } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import { UsageError } from './exit-codes.js'

/** S3 settings from flags or the standard AWS environment variables. */
export interface S3Settings {
  endpoint?: string | undefined
  region?: string | undefined
}

/**
 * Opens a provider from a URL: `file:///path` or a plain path → folder;
 * `s3://bucket/prefix` → S3 (endpoint/region from flags, else AWS_ENDPOINT_URL /
 * AWS_REGION; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the
 * SDK's default chain).
 */
export function openProvider(
  url: string,
  s3: S3Settings,
  env: NodeJS.ProcessEnv,
): { provider: CloudSyncProvider; prefix: string } {
  if (url.startsWith('s3://')) {
    const rest = url.slice(5)
    const slash = rest.indexOf('/')
    const bucket = slash < 0 ? rest : rest.slice(0, slash)
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '')
    if (bucket.length < 3) throw new UsageError(`"${url}": S3 bucket names have 3 to 63 characters`)
    const endpoint = s3.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL
    const accessKeyId = env.AWS_ACCESS_KEY_ID
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY
    const provider = new S3Provider({
      bucket,
      prefix,
      region: s3.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint,
      forcePathStyle: endpoint ? true : undefined,
      credentials:
        accessKeyId && secretAccessKey
          ? {
              accessKeyId,
              secretAccessKey,
              ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
            }
          : undefined,
    })
    return { provider, prefix: '' }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new UsageError(
      `"${url}": unsupported URL scheme; use a folder path, file:///path or s3://bucket/prefix`,
    )
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : resolve(url)
  return { provider: new FolderProvider(path), prefix: '' }
}
