// A per-sender rate limit: at most `max` events per sender in any `windowMs`. Forgets senders
// whose events all lie outside the window, so a crowd of one-off senders does not grow it.
export class SenderLimit {
  private readonly times = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts an event from `sender` at `now`; false when it is over the limit (and then not counted). */
  allow(sender: string, now: number): boolean {
    const since = now - this.windowMs;
    if (this.times.size > 1000) for (const [key, list] of this.times) if (list.at(-1)! <= since) this.times.delete(key);
    const recent = (this.times.get(sender) ?? []).filter((t) => t > since);
    if (recent.length >= this.max) {
      this.times.set(sender, recent);
      return false;
    }
    recent.push(now);
    this.times.set(sender, recent);
    return true;
  }
}
