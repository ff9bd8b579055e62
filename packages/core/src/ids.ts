import { SkeinError } from './errors.js'

declare const brand: unique symbol
/** A nominal type: a string that has passed the named validation. */
export type Brand<T, B extends string> = T & { readonly [brand]: B }

/** Identifies one workspace (and its WorkspaceCrdt room). */
export type WorkspaceId = Brand<string, 'WorkspaceId'>
/** Immutable identity of a file or folder entry; never derived from its path. */
export type FileId = Brand<string, 'FileId'>
/** Identifies one device (agent, browser, server) for attribution and conflicts. */
export type DeviceId = Brand<string, 'DeviceId'>
/** Lower-case hex sha-256 of a file's bytes. */
export type ContentHash = Brand<string, 'ContentHash'>

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const HASH_RE = /^[0-9a-f]{64}$/
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** A new random FileId (20 chars of [a-z0-9], ~103 bits). */
export function newFileId(): FileId {
  const bytes = new Uint8Array(20)
  globalThis.crypto.getRandomValues(bytes)
  let id = ''
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length]
  return id as FileId
}

export function isFileId(value: unknown): value is FileId {
  return typeof value === 'string' && ID_RE.test(value)
}

export function isContentHash(value: unknown): value is ContentHash {
  return typeof value === 'string' && HASH_RE.test(value)
}

function check<T extends string>(kind: string, re: RegExp, value: unknown, hint: string): T {
  if (typeof value !== 'string' || !re.test(value)) {
    throw new SkeinError('INVALID_INPUT', `Invalid ${kind} ${JSON.stringify(value)}: ${hint}.`)
  }
  return value as T
}

/** Validates a workspace id: 1–64 chars of letters, digits, `.`, `_`, `-`, starting alphanumeric. */
export function asWorkspaceId(value: unknown): WorkspaceId {
  return check(
    'workspace id',
    NAME_RE,
    value,
    'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
}

/** Validates a device id (same alphabet as workspace ids). */
export function asDeviceId(value: unknown): DeviceId {
  return check(
    'device id',
    NAME_RE,
    value,
    'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
}

/** Validates a FileId. */
export function asFileId(value: unknown): FileId {
  return check('file id', ID_RE, value, 'file ids are 1-64 chars of [A-Za-z0-9_-]')
}

/** Validates a sha-256 hex content hash. */
export function asContentHash(value: unknown): ContentHash {
  return check('content hash', HASH_RE, value, 'expected 64 lower-case hex digits (sha-256)')
}
