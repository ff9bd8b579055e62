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
  sync: {
    summary: 'keep a folder in sync with a workspace (device agent, foreground)',
    load: async () => (await import('./commands/sync.js')).sync,
  },
  status: {
    summary: 'sync status of a folder',
    load: async () => (await import('./commands/status.js')).status,
  },
  conflicts: {
    summary: 'conflicts found in a folder',
    load: async () => (await import('./commands/status.js')).conflicts,
  },
  trash: {
    summary: 'files moved to the trash by remote deletes',
    load: async () => (await import('./commands/status.js')).trash,
  },
  'trash restore': {
    summary: 'put a trashed file back',
    load: async () => (await import('./commands/status.js')).trashRestore,
  },
}
