export { S3Provider } from './s3-provider.js'
export { DEFAULT_S3_PROVIDER_OPTIONS } from './options.js'
export type { S3ProviderOptions, S3Credentials } from './options.js'
export { s3Error, isS3NotFound } from './errors.js'
