/**
 * Splits text into records the way git's xdiff does: each record ends with and
 * includes its `\n`; the last record has no `\n` when the text does not end with
 * one. `\r` stays inside the record, so CRLF and LF lines never compare equal and
 * every byte of the input survives a round trip through `join('')` (MG4, MG5).
 */
export function splitLines(text: string): string[] {
  const out: string[] = []
  let start = 0
  while (start < text.length) {
    const nl = text.indexOf('\n', start)
    if (nl === -1) {
      out.push(text.slice(start))
      break
    }
    out.push(text.slice(start, nl + 1))
    start = nl + 1
  }
  return out
}

/**
 * Maps equal strings to equal small integers. A `Map`, never a plain object, so
 * lines such as `__proto__` or `constructor` are ordinary keys (MG6).
 */
export class Interner {
  private readonly ids = new Map<string, number>()

  /** Number of distinct strings seen so far (ids are `0 … size-1`). */
  get size(): number {
    return this.ids.size
  }

  id(s: string): number {
    let id = this.ids.get(s)
    if (id === undefined) {
      id = this.ids.size
      this.ids.set(s, id)
    }
    return id
  }

  /** Ids of every string in `items`, in order. */
  all(items: readonly string[]): Int32Array {
    const out = new Int32Array(items.length)
    for (let i = 0; i < items.length; i++) out[i] = this.id(items[i] as string)
    return out
  }
}
