#!/usr/bin/env node
/** `skein`: the command line. Exit codes: 0 ok, 1 failure, 2 usage, 3 conflicts, 4 safety guard. */
import { isSkeinError } from '@skein/core'
import { helpText, parseArgs } from './args.js'
import type { Command } from './command.js'
import { resolveFlags } from './config.js'
import { EXIT, UsageError } from './exit-codes.js'
import { COMMANDS } from './registry.js'

function topHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(18)} ${c.summary}`)
  return [
    'usage: skein <command> [args] [flags]',
    '',
    'Commands:',
    ...rows,
    '',
    'Run "skein <command> --help" for its flags.',
    'Exit codes: 0 ok, 1 failure, 2 usage error, 3 finished with conflicts, 4 refused by a safety guard.',
  ].join('\n')
}

/** Runs one CLI invocation and resolves with its exit code (never throws). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const err = (line: string) => process.stderr.write(line + '\n')
  const out = (line: string) => process.stdout.write(line + '\n')
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(topHelp())
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK
  }
  if (argv[0] === '--version') {
    out('skein 0.1.0')
    return EXIT.OK
  }
  // Two-word commands first ("cloud sync", "token create", "trash restore").
  const two = `${argv[0]} ${argv[1] ?? ''}`
  const name = COMMANDS[two] ? two : (argv[0] as string)
  const entry = COMMANDS[name]
  if (!entry) {
    err(`skein: unknown command "${argv[0]}"; run "skein --help" for the list`)
    return EXIT.USAGE
  }
  const rest = argv.slice(name.split(' ').length)
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    const cmd: Command = await entry.load()
    if (rest.includes('--help') || rest.includes('-h')) {
      out(helpText(cmd.spec))
      return EXIT.OK
    }
    const parsed = parseArgs(cmd.spec, rest)
    const flags = resolveFlags(cmd.spec, parsed, env, cmd.configDir?.(parsed.positionals))
    return await cmd.run({
      positionals: parsed.positionals,
      flags,
      env,
      out,
      err,
      tty: Boolean(process.stderr.isTTY),
      signal: controller.signal,
    })
  } catch (e) {
    if (e instanceof UsageError) {
      err(`skein: ${e.message}`)
      return EXIT.USAGE
    }
    if (isSkeinError(e, 'SAFETY_GUARD')) {
      err(`skein: ${e.message}`)
      return EXIT.SAFETY_GUARD
    }
    if (isSkeinError(e) || (e as NodeJS.ErrnoException)?.code) {
      err(`skein: ${(e as Error).message}`)
    } else {
      err(
        `skein: unexpected error: ${(e as Error)?.message ?? String(e)}${env.SKEIN_DEBUG ? '\n' + String((e as Error)?.stack) : ' (set SKEIN_DEBUG=1 for details)'}`,
      )
    }
    return EXIT.FAILURE
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

const isEntry = process.argv[1] && /[\\/]main\.(ts|js)$/.test(process.argv[1])
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Commands clean up before they resolve; exit so no stray handle (a retry timer) keeps the CLI alive.
      process.stdout.write('', () => process.exit(code))
    },
    (e: unknown) => {
      process.stderr.write(`skein: ${String(e)}\n`)
      process.exitCode = EXIT.FAILURE
    },
  )
}
