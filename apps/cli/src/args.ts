import { UsageError } from './exit-codes.js'

export type FlagType = 'string' | 'boolean' | 'number' | 'duration' | 'percent'

export interface FlagSpec {
  type: FlagType
  /** One line for --help. */
  desc: string
  /** Allowed values (string flags). */
  choices?: readonly string[]
  /** Environment variable consulted when the flag is absent (flags > env > config file). */
  env?: string
  /** Key in skein.config.json consulted after env. */
  config?: string
  default?: string | number | boolean
}

export interface CommandSpec {
  /** e.g. `cloud sync`. */
  name: string
  summary: string
  positionals: { name: string; required: boolean; desc: string }[]
  flags: Record<string, FlagSpec>
}

export type FlagValue = string | number | boolean | undefined
export interface Parsed {
  positionals: string[]
  flags: Record<string, FlagValue>
  /** Which flags were given explicitly on the command line. */
  given: Set<string>
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** `15m`, `30d`, `2h`, `500ms`, `10s` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim())
  if (!m)
    throw new UsageError(
      `--${flag}: "${text}" is not a duration; use a number with a unit, e.g. 30s, 15m, 2h, 30d`,
    )
  return Number(m[1]) * (UNITS[m[2] as string] as number)
}

/** Converts a raw string to the flag's type, or throws a UsageError naming the flag. */
export function coerce(flag: string, spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true
      if (/^(0|false|no|off)$/i.test(raw)) return false
      throw new UsageError(`--${flag}: "${raw}" is not true/false`)
    case 'number': {
      const n = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0)
        throw new UsageError(`--${flag}: "${raw}" is not a non-negative number`)
      return n
    }
    case 'percent': {
      const m = /^(\d+(?:\.\d+)?)%?$/.exec(raw.trim())
      if (!m || Number(m[1]) > 100)
        throw new UsageError(`--${flag}: "${raw}" is not a percentage between 0 and 100, e.g. 50%`)
      return Number(m[1])
    }
    case 'duration':
      return parseDuration(raw, flag)
    case 'string':
      if (spec.choices && !spec.choices.includes(raw))
        throw new UsageError(`--${flag}: "${raw}" is not one of ${spec.choices.join(', ')}`)
      return raw
  }
}

/** Parses argv for one command: `--flag value`, `--flag=value`, boolean `--flag`, `--` ends flags. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const flags: Record<string, FlagValue> = {}
  const given = new Set<string>()
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1)
        throw new UsageError(
          `unknown flag ${arg} for "skein ${spec.name}"; see skein ${spec.name} --help`,
        )
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
    const f = spec.flags[name]
    if (!f)
      throw new UsageError(
        `unknown flag --${name} for "skein ${spec.name}"; see skein ${spec.name} --help`,
      )
    let raw: string
    if (eq >= 0) raw = arg.slice(eq + 1)
    else if (f.type === 'boolean') raw = 'true'
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--'))
        throw new UsageError(`--${name} needs a value`)
      raw = next
      i++
    }
    flags[name] = coerce(name, f, raw)
    given.add(name)
  }
  const required = spec.positionals.filter((p) => p.required)
  if (positionals.length < required.length) {
    const missing = required[positionals.length]
    throw new UsageError(
      `missing ${missing?.name ?? 'argument'} for "skein ${spec.name}"; usage: ${usage(spec)}`,
    )
  }
  if (positionals.length > spec.positionals.length) {
    throw new UsageError(
      `unexpected argument "${positionals[spec.positionals.length]}" for "skein ${spec.name}"; usage: ${usage(spec)}`,
    )
  }
  return { positionals, flags, given }
}

/** One-line usage. */
export function usage(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ')
  return `skein ${spec.name}${pos ? ' ' + pos : ''} [flags]`
}

/** Full --help text. */
export function helpText(spec: CommandSpec): string {
  const lines = [`${usage(spec)}`, '', spec.summary, '']
  if (spec.positionals.length) {
    lines.push('Arguments:')
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(22)} ${p.desc}`)
    lines.push('')
  }
  lines.push('Flags:')
  for (const [name, f] of Object.entries(spec.flags)) {
    const meta = [
      f.choices ? f.choices.join('|') : f.type === 'boolean' ? '' : f.type,
      f.default !== undefined ? `default ${String(f.default)}` : '',
      f.env ? `env ${f.env}` : '',
    ]
      .filter(Boolean)
      .join('; ')
    lines.push(`  --${name.padEnd(20)} ${f.desc}${meta ? ` (${meta})` : ''}`)
  }
  return lines.join('\n')
}
