import type { Command } from './command.js'

/** Every subcommand, loaded lazily so one command's dependencies never slow another. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: {
    summary: 'run the sync server (LevelDB + blobs under --data)',
    load: async () => (await import('./commands/serve.js')).serve,
  },
  'token create': {
    summary: 'create a signed access token for a workspace',
    load: async () => (await import('./commands/token.js')).tokenCreate,
  },
  'cloud sync': {
    summary: 'sync a folder with S3 or a folder (verified, conflicts, max-delete guard)',
    load: async () => (await import('./commands/cloud.js')).cloudSync,
  },
  backup: {
    summary: 'take a snapshot of a folder',
    load: async () => (await import('./commands/snapshots.js')).backupCmd,
  },
  snapshots: {
    summary: 'list snapshots',
    load: async () => (await import('./commands/snapshots.js')).snapshotsCmd,
  },
  restore: {
    summary: 'restore a snapshot into an empty folder',
    load: async () => (await import('./commands/snapshots.js')).restoreCmd,
  },
  prune: {
    summary: 'apply a retention policy to snapshots',
    load: async () => (await import('./commands/snapshots.js')).pruneCmd,
  },
}
