import type { CommandSpec, FlagValue } from './args.js'

/** What a command receives: its arguments resolved (flags > env > config > defaults). */
export interface CommandContext {
  positionals: string[]
  flags: Record<string, FlagValue>
  env: NodeJS.ProcessEnv
  /** Program output (stdout). */
  out(line: string): void
  /** Diagnostics and progress (stderr). */
  err(line: string): void
  /** True when stdout/stderr is a terminal (progress bars, live status). */
  tty: boolean
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly. */
  signal: AbortSignal
}

/** A `skein` subcommand: its flags and what it does; resolves with the exit code. */
export interface Command {
  spec: CommandSpec
  /** Which positional names a directory whose `.skein/skein.config.json` is read. */
  configDir?: (positionals: string[]) => string | undefined
  run(ctx: CommandContext): Promise<number>
}

/** Helpers to read typed flags. */
export const str = (v: FlagValue): string | undefined => (typeof v === 'string' ? v : undefined)
export const num = (v: FlagValue): number | undefined => (typeof v === 'number' ? v : undefined)
export const bool = (v: FlagValue): boolean => v === true
