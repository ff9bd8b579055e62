/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class RateLimiter {
  private tokens: number
  private last = Date.now()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    if (this.tokens < 1) {
      const now = Date.now()
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
      this.last = now
      if (this.tokens < 1) return false
    }
    this.tokens -= 1
    return true
  }
}
