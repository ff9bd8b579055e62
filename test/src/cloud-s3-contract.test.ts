import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runProviderContractTests } from '@skein/cloud/testing'
import { S3Provider, s3Error } from '@skein/cloud-s3'
import { bytesStream, readAll } from '@skein/cloud'
import { sha256HexSync } from '@skein/core/node'
import { startS3rver } from './helpers/s3rver.js'
import type { S3rverHandle } from './helpers/s3rver.js'

let server: S3rverHandle
let n = 0
const make = (prefix: string, lightweightPuts = true) =>
  new S3Provider({
    bucket: 'skein-test',
    prefix,
    endpoint: server.endpoint,
    credentials: server.credentials,
    partSize: 5 * 1024 * 1024,
    multipartThreshold: 5 * 1024 * 1024,
    lightweightPuts,
  })

beforeAll(async () => {
  server = await startS3rver()
})
afterAll(async () => {
  await server.stop()
})

runProviderContractTests('S3Provider (s3rver)', { create: async () => make(`contract-${++n}/`) })
// The SDK's PutObject (what AWS uses) must meet the contract too.
runProviderContractTests('S3Provider (s3rver, SDK PUTs)', {
  create: async () => make(`contract-sdk-${++n}/`, false),
  largeListing: false,
})

describe('S3Provider specifics', () => {
  it('S3P1 a streamed upload is stored byte-exact (no aws-chunked framing inside)', async () => {
    const p = make('framing/')
    const body = Buffer.from('hello world')
    async function* gen() {
      yield body.subarray(0, 5)
      yield body.subarray(5)
    }
    await p.upload('x.txt', gen(), { size: 11, sha256: sha256HexSync(body), mtime: 1 })
    const d = await p.download('x.txt')
    expect((await readAll(d!.body)).toString()).toBe('hello world')
    expect((await p.head('x.txt'))?.size).toBe(11)
  })

  it('S3P6 a prefix is a folder: "team" and "team2" never see each other\'s keys, with or without a trailing slash', async () => {
    const put = (p: S3Provider, key: string) =>
      p.upload(key, bytesStream(Buffer.from(key)), {
        size: key.length,
        sha256: sha256HexSync(key),
        mtime: 1,
      })
    const keys = async (p: S3Provider) => {
      const out: string[] = []
      for await (const o of p.list('')) out.push(o.key)
      return out.sort()
    }
    const team = make('iso/team')
    const team2 = make('/iso/team2/')
    await put(team, 'a.md')
    await put(team2, 'b.md')
    expect(await keys(team)).toEqual(['a.md'])
    expect(await keys(team2)).toEqual(['b.md'])
    expect(await keys(make('iso/'))).toEqual(['team/a.md', 'team2/b.md'])
    expect(team.name).toBe('s3://skein-test/iso/team/')
  })

  it('S3P7 no credentials anywhere is a non-retryable auth error naming the variables to set', () => {
    // the SDK's provider chain fails like this (injected: the chain would also ask the EC2 metadata address)
    const sdk = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    })
    const err = s3Error(sdk, 'download', 's3://bucket/team/.skein/index.json')
    expect(err).toMatchObject({ code: 'NOT_AUTHORIZED', retryable: false })
    expect(err.message).toMatch(
      /set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(or AWS_PROFILE\)/,
    )
  })

  it('S3P2 a missing bucket is a non-retryable error that says what to do', async () => {
    const p = new S3Provider({
      bucket: 'no-such-bucket',
      endpoint: server.endpoint,
      credentials: server.credentials,
    })
    const err = await p
      .upload('k', bytesStream(Buffer.from('x')), { size: 1, sha256: sha256HexSync('x'), mtime: 1 })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'INVALID_INPUT', retryable: false })
    expect(String((err as Error).message)).toMatch(/create the bucket/)
  })

  it('S3P3 an unreachable endpoint is a retryable error', async () => {
    const p = new S3Provider({
      bucket: 'skein-test',
      endpoint: 'http://127.0.0.1:1',
      credentials: server.credentials,
      maxAttempts: 1,
    })
    const err = await p.head('k').catch((e: unknown) => e)
    expect(err).toMatchObject({ retryable: true })
  })
})
