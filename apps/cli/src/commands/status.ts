import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { StateStore, type TrashRecord } from '@skein/agent'
import { SkeinError } from '@skein/core'
import { askAgent } from '../agent-requests.js'
import { bool, type Command } from '../command.js'
import { UsageError } from '../exit-codes.js'
import { readStatus } from '../status-file.js'
import { count } from '../plural.js'

const dirArg = [{ name: 'DIR', required: true, desc: 'a folder synced by "skein sync"' }]

function published(dir: string) {
  const root = resolve(dir)
  const s = readStatus(root)
  if (!s)
    throw new UsageError(
      `${root} has no Skein state (.skein/status.json); run "skein sync ${dir} …" first`,
    )
  return s
}

export const status: Command = {
  spec: {
    name: 'status',
    summary: 'Show the sync status of a folder (from its running or last agent).',
    positionals: dirArg,
    flags: { json: { type: 'boolean', desc: 'print JSON' } },
  },
  async run(ctx) {
    const s = published(ctx.positionals[0] as string)
    if (bool(ctx.flags.json)) {
      ctx.out(
        JSON.stringify({
          running: s.running,
          pid: s.pid,
          updatedAt: s.updatedAt,
          server: s.server,
          workspace: s.workspace,
          device: s.device,
          ...s.status,
          conflicts: s.conflicts.length,
        }),
      )
      return 0
    }
    const st = s.status
    ctx.out(`agent:      ${s.running ? `running (pid ${s.pid})` : 'not running'}`)
    ctx.out(`server:     ${s.server}  workspace ${s.workspace}  device ${s.device}`)
    ctx.out(
      `connection: ${st.connection}  state ${st.state}${st.pausedReason ? ` (${st.pausedReason})` : ''}`,
    )
    ctx.out(`pending:    ${count(st.pendingFiles, 'file')}`)
    ctx.out(`conflicts:  ${s.conflicts.length}`)
    ctx.out(
      `last sync:  ${st.lastSync !== undefined ? new Date(st.lastSync).toISOString() : 'never'}`,
    )
    return 0
  },
}

export const conflicts: Command = {
  spec: {
    name: 'conflicts',
    summary:
      'List the conflicts in a folder that still need attention (found by any device; delete a copy once merged).',
    positionals: dirArg,
    flags: { json: { type: 'boolean', desc: 'print JSON' } },
  },
  async run(ctx) {
    const root = resolve(ctx.positionals[0] as string)
    const s = published(root)
    // Published by the agent (running, or at its last run, perhaps an older
    // version): a copy deleted since then is settled, whatever the file says.
    const open = (Array.isArray(s.conflicts) ? s.conflicts : []).filter(
      (c) =>
        typeof c?.path === 'string' &&
        (typeof c.copyPath !== 'string' || existsSync(join(root, c.copyPath))),
    )
    if (bool(ctx.flags.json)) ctx.out(JSON.stringify(open))
    else if (open.length === 0) ctx.out('no conflicts')
    else
      for (const c of open) {
        const when = Number.isFinite(c.time) ? ` at ${new Date(c.time).toISOString()}` : ''
        const what = c.copyPath
          ? ` → other version in ${c.copyPath} (delete it once merged)`
          : c.kind === 'edit'
            ? ' → conflict markers in the note (edit them out)'
            : ''
        ctx.out(`${c.path}: ${c.kind} conflict found by ${c.device ?? 'a device'}${when}${what}`)
      }
    return open.length ? 3 : 0
  },
}

/** The agent running on `root`, if any (it holds the state store: only it may open it). */
function runningAgent(root: string) {
  const s = readStatus(root)
  return s?.running ? s : undefined
}

async function openStore(root: string): Promise<StateStore> {
  try {
    return await StateStore.open(root)
  } catch (e) {
    throw new UsageError(`cannot open ${root}/.skein: ${(e as Error).message}`)
  }
}

export const trash: Command = {
  spec: {
    name: 'trash',
    summary: 'List files that remote deletes moved to the trash.',
    positionals: dirArg,
    flags: { json: { type: 'boolean', desc: 'print JSON' } },
  },
  async run(ctx) {
    const root = resolve(ctx.positionals[0] as string)
    const running = runningAgent(root)
    let items: TrashRecord[]
    if (running) {
      // the running agent publishes its trash with its status
      if (!running.trash)
        throw new UsageError(
          `the agent for ${root} (pid ${running.pid}) is from an older version that does not publish its trash; stop it (Ctrl-C) and retry`,
        )
      items = running.trash
    } else {
      const store = await openStore(root)
      try {
        items = await store.listTrash()
      } finally {
        await store.close()
      }
    }
    if (bool(ctx.flags.json)) ctx.out(JSON.stringify(items))
    else if (items.length === 0) ctx.out('trash is empty')
    else for (const t of items) ctx.out(`${t.path}`)
    return 0
  },
}

export const trashRestore: Command = {
  spec: {
    name: 'trash restore',
    summary:
      'Put a trashed file back at its path (a running "skein sync" does it and uploads it; else the next one uploads it).',
    positionals: [...dirArg, { name: 'PATH', required: true, desc: 'the path the file had' }],
    flags: {},
  },
  async run(ctx) {
    const [dir, path] = ctx.positionals as [string, string]
    const root = resolve(dir)
    const notInTrash = () =>
      new UsageError(`"${path}" is not in the trash of ${dir}; see "skein trash ${dir}"`)
    const running = runningAgent(root)
    if (running) {
      const reply = await askAgent(root, running.pid, { op: 'trash-restore', path })
      if (reply.ok) {
        ctx.out(`restored ${reply.path}`)
        return 0
      }
      if (reply.code === 'NOT_FOUND') throw notInTrash()
      throw new SkeinError(
        reply.code === 'PRECONDITION_FAILED' ? 'PRECONDITION_FAILED' : 'IO',
        reply.message,
      )
    }
    const store = await openStore(root)
    try {
      const rec = await store.restoreFromTrash(path)
      if (!rec) throw notInTrash()
      ctx.out(`restored ${rec.path}`)
    } finally {
      await store.close()
    }
    return 0
  },
}
