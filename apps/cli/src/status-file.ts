import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AgentIssue, AgentStatus, OpenConflict, TrashRecord } from '@skein/agent'

/** What a running `skein sync` publishes in `<root>/.skein/status.json` for `skein status` / `conflicts`. */
export interface PublishedStatus {
  pid: number
  updatedAt: number
  server: string
  workspace: string
  device: string
  status: AgentStatus
  /** The workspace's conflicts that still need attention (any device's). */
  conflicts: OpenConflict[]
  issues: AgentIssue[]
  /** Files remote deletes moved to the trash, newest first (absent from older agents). */
  trash?: TrashRecord[]
}

export const statusPath = (root: string) => join(root, '.skein', 'status.json')

/** Atomically replaces the published status (temp + rename). */
export function publishStatus(root: string, s: PublishedStatus): void {
  const path = statusPath(root)
  writeFileSync(path + '.tmp', JSON.stringify(s, null, 2))
  renameSync(path + '.tmp', path)
}

/** Reads the published status, with whether its writer is still alive. */
export function readStatus(root: string): (PublishedStatus & { running: boolean }) | undefined {
  const path = statusPath(root)
  if (!existsSync(path)) return undefined
  const s = JSON.parse(readFileSync(path, 'utf8')) as PublishedStatus
  let running = false
  try {
    process.kill(s.pid, 0)
    running = true
  } catch {
    running = false
  }
  return { ...s, running }
}
