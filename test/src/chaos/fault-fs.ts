/**
 * Disk faults for a device process, switched on and off by the test through
 * flag files (no IPC needed, so they also work across agent restarts):
 *
 * - `<flagDir>/enospc` holding a path fragment: opening a file for writing
 *   whose path contains it fails with ENOSPC (a full disk);
 * - `<flagDir>/eacces` holding a path fragment: reading a file whose path
 *   contains it fails with EACCES (permission denied; root ignores chmod).
 *
 * Installed by `device-child.ts` when `SKEIN_CHAOS_FAULTS=<flagDir>` is set.
 * Patches `node:fs` and `node:fs/promises` and syncs the ESM named exports, so
 * the agent's own imports see the faults. A fake used only to inject faults.
 */
import type * as NodeFs from 'node:fs'
import type * as NodeFsp from 'node:fs/promises'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'

type Fs = typeof NodeFs
type Fsp = typeof NodeFsp

const require = createRequire(import.meta.url)

function fault(code: 'ENOSPC' | 'EACCES', syscall: string, path: string): NodeJS.ErrnoException {
  const msg = code === 'ENOSPC' ? 'no space left on device' : 'permission denied'
  const e: NodeJS.ErrnoException = new Error(`${code}: ${msg}, ${syscall} '${path}'`)
  e.code = code
  e.syscall = syscall
  e.path = path
  e.errno = code === 'ENOSPC' ? -28 : -13
  return e
}

const writing = (flags: unknown) => typeof flags === 'string' && /[wa+]/.test(flags)

export function installFsFaults(flagDir: string): void {
  const fs = require('node:fs') as Fs
  const fsp = require('node:fs/promises') as Fsp
  const origRead = fs.readFileSync.bind(fs)
  const origOpenSync = fs.openSync.bind(fs)
  const origOpen = fsp.open.bind(fsp)
  const origWriteFile = fs.writeFileSync.bind(fs)
  const flag = (name: string): string | undefined => {
    try {
      const v = origRead(join(flagDir, name), 'utf8').trim()
      return v || undefined
    } catch {
      return undefined
    }
  }
  const hit = (name: string, path: unknown) => {
    const f = flag(name)
    return (
      f !== undefined && typeof path === 'string' && path.includes(f) && !path.includes('/.skein/')
    )
  }
  fsp.open = (async (path: Parameters<Fsp['open']>[0], flags?: string | number, mode?: number) => {
    if (writing(flags) && hit('enospc', path)) throw fault('ENOSPC', 'open', String(path))
    if (!writing(flags) && hit('eacces', path)) throw fault('EACCES', 'open', String(path))
    return origOpen(path, flags, mode)
  }) as Fsp['open']
  fs.openSync = ((path: Parameters<Fs['openSync']>[0], flags?: string | number, mode?: number) => {
    if (writing(flags) && hit('enospc', path)) throw fault('ENOSPC', 'open', String(path))
    if (!writing(flags) && hit('eacces', path)) throw fault('EACCES', 'open', String(path))
    return origOpenSync(path, flags ?? 'r', mode)
  }) as Fs['openSync']
  fs.readFileSync = ((path: Parameters<Fs['readFileSync']>[0], opts?: unknown) => {
    if (hit('eacces', path)) throw fault('EACCES', 'open', String(path))
    return origRead(path, opts as BufferEncoding)
  }) as Fs['readFileSync']
  fs.writeFileSync = (path: Parameters<Fs['writeFileSync']>[0], ...rest: unknown[]) => {
    if (hit('enospc', path)) throw fault('ENOSPC', 'open', String(path))
    return (origWriteFile as (...a: unknown[]) => void)(path, ...rest)
  }
  syncBuiltinESMExports()
}
