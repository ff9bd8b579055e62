/**
 * The parts of `y-leveldb` we use. Its package ships types that its `exports`
 * map does not reach under NodeNext resolution, so they are declared here.
 */
declare module 'y-leveldb' {
  type Key = (string | number)[]
  interface Entry {
    key: Key
    value: Uint8Array
  }
  export class LeveldbPersistence {
    constructor(location: string, opts?: { levelOptions?: object })
    _transact<T>(f: (db: never) => Promise<T>): Promise<T>
    getYDoc(docName: string): Promise<{ getText(name: string): { toJSON(): string } }>
    storeUpdate(docName: string, update: Uint8Array): Promise<number>
    destroy(): Promise<void>
  }
  /** The key codec y-leveldb gives its Level instance (arrays of strings and uint32s). */
  export const keyEncoding: { encode(key: Key): Uint8Array }
  export function getLevelBulkEntries(db: unknown, opts: object): Promise<Entry[]>
  export function getLevelUpdatesEntries(
    db: unknown,
    docName: string,
    opts?: object,
  ): Promise<Entry[]>
}
