/**
 * Requests to a running `skein sync` from other `skein` commands on the same
 * folder. The agent's state is a LevelDB only one process may open, so a
 * command that must change it while the agent runs (`skein trash restore`)
 * drops a request file into `<root>/.skein/requests/` and waits for the agent
 * to write the reply beside it. Both are written atomically (a `.tmp` beside
 * them, then a rename), so neither side reads half a file.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { atomicWriteFile } from '@skein/cloud'
import { SkeinError } from '@skein/core'

/** What a command may ask a running agent. */
export type AgentRequest = { op: 'trash-restore'; path: string }

/** The agent's answer: what it did, or why it could not. */
export type AgentReply = { ok: true; path: string } | { ok: false; code: string; message: string }

const REPLY = '.reply.json'
/**
 * A reply nobody collected for this long is removed: its command gave up
 * waiting (after 15 s by default) while the agent was still carrying it out.
 */
export const STALE_REPLY_MS = 10 * 60_000
const requestsDir = (root: string) => join(root, '.skein', 'requests')

/**
 * Sends `req` to the agent running on `root` and waits up to `timeoutMs` for its
 * reply. Throws when no reply came (the request is withdrawn).
 */
export async function askAgent(
  root: string,
  pid: number,
  req: AgentRequest,
  timeoutMs = 15_000,
): Promise<AgentReply> {
  const dir = requestsDir(root)
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const path = join(dir, `${id}.json`)
  await atomicWriteFile(path, JSON.stringify(req))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50))
    try {
      const reply = JSON.parse(readFileSync(join(dir, id + REPLY), 'utf8')) as AgentReply
      rmSync(join(dir, id + REPLY), { force: true })
      return reply
    } catch {
      // no reply yet
    }
  }
  let withdrawn = true
  try {
    unlinkSync(path)
  } catch {
    withdrawn = false // the agent took it: it may still act on it
  }
  throw new SkeinError(
    'TRANSIENT',
    `The agent running on ${root} (pid ${pid}) did not answer within ${timeoutMs / 1000} s; ` +
      (withdrawn
        ? 'nothing was changed. Try again, or stop it (Ctrl-C) and retry.'
        : 'it took the request and may still carry it out: check "skein trash" in a moment before retrying.'),
  )
}

/** Parses a request file's content; undefined when it is not a request this version knows. */
function parseRequest(text: string): AgentRequest | undefined {
  try {
    const r = JSON.parse(text) as { op?: unknown; path?: unknown }
    if (r.op === 'trash-restore' && typeof r.path === 'string' && r.path.length > 0)
      return { op: r.op, path: r.path }
  } catch {
    // not JSON: answered as unknown
  }
  return undefined
}

/**
 * The agent's side: answers every waiting request with `handle`, one at a time.
 * A request it cannot parse gets an error reply; a request file is removed once
 * read, so each is answered once. Replies older than {@link STALE_REPLY_MS},
 * which their command stopped waiting for, are removed.
 */
export async function answerRequests(
  root: string,
  handle: (req: AgentRequest) => Promise<AgentReply>,
): Promise<void> {
  const dir = requestsDir(root)
  let all: string[]
  try {
    all = readdirSync(dir)
  } catch {
    return // no request was ever made
  }
  const staleBefore = Date.now() - STALE_REPLY_MS
  for (const name of all.filter((n) => n.endsWith(REPLY))) {
    try {
      if (statSync(join(dir, name)).mtimeMs < staleBefore) rmSync(join(dir, name), { force: true })
    } catch {
      // collected meanwhile
    }
  }
  const names = all.filter((n) => n.endsWith('.json') && !n.endsWith(REPLY))
  for (const name of names) {
    const path = join(dir, name)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
      rmSync(path, { force: true })
    } catch {
      continue // withdrawn meanwhile
    }
    const req = parseRequest(text)
    let reply: AgentReply
    try {
      reply = req
        ? await handle(req)
        : {
            ok: false,
            code: 'INVALID_INPUT',
            message: `Unknown request ${name}; this agent answers "skein trash restore" only.`,
          }
    } catch (err) {
      reply = {
        ok: false,
        code: (err as { code?: string }).code ?? 'IO',
        message: (err as Error).message,
      }
    }
    await atomicWriteFile(join(dir, name.slice(0, -'.json'.length) + REPLY), JSON.stringify(reply))
  }
}
