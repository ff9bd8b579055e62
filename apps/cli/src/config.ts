import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { coerce, type CommandSpec, type FlagValue, type Parsed } from './args.js'
import { UsageError } from './exit-codes.js'

/** Reads `skein.config.json` from `<dir>/.skein/` or the working directory; undefined if none. */
export function readConfigFile(
  dir: string | undefined,
): { path: string; values: Record<string, unknown> } | undefined {
  const candidates = [
    dir ? join(resolve(dir), '.skein', 'skein.config.json') : undefined,
    join(process.cwd(), 'skein.config.json'),
  ]
  for (const path of candidates) {
    if (!path || !existsSync(path)) continue
    let values: unknown
    try {
      values = JSON.parse(readFileSync(path, 'utf8'))
    } catch (e) {
      throw new UsageError(`${path} is not valid JSON (${(e as Error).message}); fix or remove it`)
    }
    if (!values || typeof values !== 'object' || Array.isArray(values))
      throw new UsageError(`${path} must hold a JSON object of settings`)
    return { path, values: values as Record<string, unknown> }
  }
  return undefined
}

/**
 * Fills flags not given on the command line from the environment (`SKEIN_*`),
 * then the config file, then defaults — validated with the same rules as flags.
 */
export function resolveFlags(
  spec: CommandSpec,
  parsed: Parsed,
  env: NodeJS.ProcessEnv,
  dir?: string,
): Record<string, FlagValue> {
  const out: Record<string, FlagValue> = { ...parsed.flags }
  const file = readConfigFile(dir)
  if (file) {
    const known = new Set(
      Object.values(spec.flags)
        .map((f) => f.config)
        .filter(Boolean),
    )
    for (const key of Object.keys(file.values)) {
      if (!known.has(key) && !ALL_CONFIG_KEYS.has(key))
        throw new UsageError(
          `${file.path}: unknown setting "${key}"; known settings: ${[...ALL_CONFIG_KEYS].sort().join(', ')}`,
        )
    }
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (parsed.given.has(name)) continue
    const fromEnv = f.env ? env[f.env] : undefined
    if (fromEnv !== undefined && fromEnv !== '') {
      out[name] = coerceFrom(`environment variable ${f.env}`, name, f, fromEnv)
      continue
    }
    const fromFile = f.config && file ? file.values[f.config] : undefined
    if (fromFile !== undefined) {
      out[name] = coerceFrom(
        `${file?.path} setting "${f.config}"`,
        name,
        f,
        typeof fromFile === 'string' ? fromFile : JSON.stringify(fromFile),
      )
      continue
    }
    if (f.default !== undefined)
      out[name] =
        typeof f.default === 'string' && f.type !== 'string'
          ? coerce(name, f, f.default)
          : f.default
  }
  return out
}

function coerceFrom(
  where: string,
  name: string,
  f: Parameters<typeof coerce>[1],
  raw: string,
): FlagValue {
  try {
    return coerce(name, f, raw)
  } catch (e) {
    throw new UsageError(`${where}: ${(e as Error).message}`)
  }
}

/** Every settings key any command reads from skein.config.json. */
export const ALL_CONFIG_KEYS = new Set([
  'server',
  'workspace',
  'device',
  'token',
  'conflict',
  'host',
  'port',
  'data',
  'auth',
  'secretFile',
  'backupTo',
  'backupEvery',
  'writeInterval',
  'endpoint',
  'region',
  'mode',
  'compare',
  'keep',
  'maxDelete',
])
