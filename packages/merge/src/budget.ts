/**
 * A work counter shared by every diff inside one merge, so a pathological input
 * stops after a bounded amount of work instead of hanging (MG9).
 */
export class WorkBudget {
  private used = 0

  constructor(readonly limit: number) {}

  /** Adds `units` of work; throws {@link WorkExceeded} once the limit is passed. */
  spend(units: number): void {
    this.used += units
    if (this.used > this.limit) throw new WorkExceeded(this.used, this.limit)
  }

  get spent(): number {
    return this.used
  }
}

/** Internal signal: the budget ran out. Callers catch it and fall back to a coarser result. */
export class WorkExceeded extends Error {
  override readonly name = 'WorkExceeded'
  constructor(
    readonly used: number,
    readonly limit: number,
  ) {
    super(`diff work bound exceeded (${used} > ${limit})`)
  }
}
