/** Structured fields attached to a log line. Never put tokens or document text here. */
export type LogFields = Readonly<Record<string, unknown>>

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** The logger every package accepts as an option (injectable, silent by default). */
export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }
const SECRET_KEY = /token|secret|password|authorization|cookie|passphrase|content|body|text/i

/** Replaces values under secret-looking keys so they never reach a log sink. */
export function redact(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : v
  return out
}

/** A logger that drops everything (the default in libraries). */
export const noopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export interface ConsoleLoggerOptions {
  /** Lowest level written; default `info`. */
  level: LogLevel
  /** One JSON object per line (for machines) instead of readable text; default false. */
  json: boolean
  /** Where lines go; default stderr so stdout stays free for program output. */
  write: (line: string) => void
}

/** A logger writing structured lines, redacting secret-looking fields. */
export function createConsoleLogger(options: Partial<ConsoleLoggerOptions> = {}): Logger {
  const level = LEVELS[options.level ?? 'info']
  const json = options.json ?? false
  const write = options.write ?? ((line: string) => console.error(line))
  const emit = (lvl: LogLevel) => (msg: string, fields?: LogFields) => {
    if (LEVELS[lvl] < level) return
    const safe = redact(fields)
    if (json) write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...safe }))
    else
      write(
        `${lvl.padEnd(5)} ${msg}${safe && Object.keys(safe).length ? ' ' + JSON.stringify(safe) : ''}`,
      )
  }
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') }
}
