import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SkeinError } from '@skein/core'
import { errnoCode, fsError } from './fs-utils.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errnoCode(err) === 'EPERM'
  }
}

/**
 * Takes `<state>/lock` so two runs never work on one folder at once. A lock left
 * by a dead process (a crash, a SIGKILL) is taken over.
 */
export async function acquireStateLock(file: string): Promise<() => Promise<void>> {
  await mkdir(dirname(file), { recursive: true })
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx')
      await fh.writeFile(String(process.pid))
      await fh.close()
      return () => rm(file, { force: true })
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fsError(err, 'create the sync lock', file)
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => ''))
    if (pid && alive(pid))
      throw new SkeinError(
        'CONFLICT',
        `Another sync (process ${pid}) is running on this folder (lock ${file}); wait for it to finish.`,
        { retryable: true },
      )
    await rm(file, { force: true })
  }
  throw new SkeinError('CONFLICT', `Could not take the sync lock ${file}; retry.`, {
    retryable: true,
  })
}
