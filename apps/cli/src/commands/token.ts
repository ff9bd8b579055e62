import { resolve } from 'node:path'
import { asWorkspaceId } from '@skein/core'
import { signToken } from '@skein/server'
import { num, str, type Command } from '../command.js'
import { UsageError } from '../exit-codes.js'
import { loadSecret } from './serve.js'

export const tokenCreate: Command = {
  spec: {
    name: 'token create',
    summary: "Create a signed access token for one workspace (uses the server's secret).",
    positionals: [],
    flags: {
      workspace: {
        type: 'string',
        desc: 'workspace the token opens (required)',
        env: 'SKEIN_WORKSPACE',
        config: 'workspace',
      },
      scope: {
        type: 'string',
        choices: ['read', 'write'],
        desc: 'read-only or read-write',
        default: 'write',
      },
      expires: { type: 'duration', desc: 'lifetime, e.g. 30d, 12h', default: '30d' },
      data: {
        type: 'string',
        desc: "the server's data directory (holds the secret)",
        default: '.skein-data',
        env: 'SKEIN_DATA',
        config: 'data',
      },
      'secret-file': {
        type: 'string',
        desc: 'file holding the token-signing secret',
        env: 'SKEIN_SECRET_FILE',
        config: 'secretFile',
      },
      json: { type: 'boolean', desc: 'print {"token","workspace","scope","expires"} as JSON' },
    },
  },
  async run(ctx) {
    const ws = str(ctx.flags.workspace)
    if (!ws) throw new UsageError('--workspace is required for "skein token create"')
    let workspace: string
    try {
      workspace = asWorkspaceId(ws)
    } catch (e) {
      throw new UsageError(`--workspace: ${(e as Error).message}`)
    }
    const data = resolve(str(ctx.flags.data) ?? '.skein-data')
    // a new secret here means no server signed with it yet: say which server will accept the token
    const secret = loadSecret(str(ctx.flags['secret-file']), data, (path) =>
      ctx.err(
        `created a new signing secret in ${path}: only a server started with --data ${data} accepts this token (give --data to use an existing server's secret)`,
      ),
    )
    const exp = Math.floor((Date.now() + (num(ctx.flags.expires) ?? 0)) / 1000)
    const scope = (str(ctx.flags.scope) ?? 'write') as 'read' | 'write'
    const token = await signToken(secret, { workspace, scope, exp })
    if (ctx.flags.json === true)
      ctx.out(
        JSON.stringify({ token, workspace, scope, expires: new Date(exp * 1000).toISOString() }),
      )
    else ctx.out(token)
    return 0
  },
}
