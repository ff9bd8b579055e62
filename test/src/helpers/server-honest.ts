/** A pair of honest clients whose round trips prove a server still serves others. */
import * as Y from 'yjs'
import type { SyncClient } from '@skein/client'
import type { DocHandle } from '@skein/client'
import { newClient, textOf, waitFor } from './server-helpers.js'

/** Writer + reader on one document. */
export class HonestPair {
  readonly writerDoc = new Y.Doc()
  readonly readerDoc = new Y.Doc()
  writer!: SyncClient
  reader!: SyncClient
  writerHandle!: DocHandle
  private n = 0

  constructor(
    private readonly url: string,
    readonly docName: string,
    private readonly token?: string,
  ) {}

  async start(): Promise<void> {
    this.writer = newClient(this.url, { token: this.token })
    this.reader = newClient(this.url, { token: this.token })
    this.writerHandle = this.writer.open(this.docName, this.writerDoc)
    const r = this.reader.open(this.docName, this.readerDoc)
    await Promise.all([this.writerHandle.whenSynced, r.whenSynced])
  }

  /** Writes one edit and waits until the reader has it and the server acked it. */
  async roundTrip(): Promise<void> {
    const t = this.writerDoc.getText('t')
    t.insert(t.length, `h${this.n++};`)
    await waitFor(() => textOf(this.readerDoc) === textOf(this.writerDoc), 'honest round trip')
    await waitFor(() => this.writerHandle.unsyncedChanges === 0, 'honest ack')
  }

  stop(): void {
    this.writer.close()
    this.reader.close()
  }
}
