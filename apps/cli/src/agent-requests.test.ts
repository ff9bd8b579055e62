import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { STALE_REPLY_MS, answerRequests, askAgent, type AgentRequest } from './agent-requests.js'

const temps: string[] = []
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})
const root = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-req-'))
  temps.push(d)
  return d
}

describe('requests to a running agent', () => {
  it('AR1 each request is answered once, in its own reply; a malformed one gets an error reply', async () => {
    const dir = await root()
    const seen: AgentRequest[] = []
    let serving = true
    const agentLoop = (async () => {
      while (serving) {
        await answerRequests(dir, async (req) => {
          seen.push(req)
          return req.path === 'bad.md'
            ? { ok: false, code: 'PRECONDITION_FAILED', message: 'a file already exists there' }
            : { ok: true, path: req.path }
        })
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const [one, two] = await Promise.all([
      askAgent(dir, 1, { op: 'trash-restore', path: 'a.md' }),
      askAgent(dir, 1, { op: 'trash-restore', path: 'bad.md' }),
    ])
    expect(one).toEqual({ ok: true, path: 'a.md' })
    expect(two).toEqual({
      ok: false,
      code: 'PRECONDITION_FAILED',
      message: 'a file already exists there',
    })
    await writeFile(join(dir, '.skein', 'requests', 'junk.json'), '{"op":"format-disk"}')
    await new Promise((r) => setTimeout(r, 200))
    serving = false
    await agentLoop
    expect(seen.map((r) => r.path).sort()).toEqual(['a.md', 'bad.md'])
    const left = await readdir(join(dir, '.skein', 'requests'))
    expect(left).toEqual(['junk.reply.json']) // answered (unknown request), nothing else left
  })

  it('AR2 no agent answering: the request is withdrawn and the error says nothing changed', async () => {
    const dir = await root()
    await mkdir(join(dir, '.skein'), { recursive: true })
    await expect(askAgent(dir, 4242, { op: 'trash-restore', path: 'a.md' }, 300)).rejects.toThrow(
      /pid 4242\) did not answer within 0\.3 s; nothing was changed/,
    )
    expect(await readdir(join(dir, '.skein', 'requests'))).toEqual([])
  })

  it('AR3 a reply nobody collected is removed once stale; a fresh one stays for its command', async () => {
    const dir = await root()
    const requests = join(dir, '.skein', 'requests')
    await mkdir(requests, { recursive: true })
    await writeFile(join(requests, 'old.reply.json'), '{"ok":true,"path":"a.md"}')
    await writeFile(join(requests, 'new.reply.json'), '{"ok":true,"path":"b.md"}')
    const past = (Date.now() - STALE_REPLY_MS - 60_000) / 1000
    await utimes(join(requests, 'old.reply.json'), past, past)
    await answerRequests(dir, () => Promise.reject(new Error('no request was made')))
    expect(await readdir(requests)).toEqual(['new.reply.json'])
  })
})
