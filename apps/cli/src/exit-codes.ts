/** Documented exit codes of `skein` (README "Exit codes"). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONFLICTS: 3,
  SAFETY_GUARD: 4,
} as const

/** A mistake in how the command was called: exits 2 with a one-line message. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
