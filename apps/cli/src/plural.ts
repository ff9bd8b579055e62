/** `count(1, 'file')` → "1 file", `count(3, 'file')` → "3 files": a number with its noun, for messages. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`
}
