import { performance } from 'node:perf_hooks';

/** How many customers' answers are kept; past it the oldest are asked again. */
const MAX_ENTRIES = 50_000;

/**
 * Whether a customer's tokens still hold: a customer erased or deleted has none. The answer comes
 * from durable state (the customer's stream) and is cached: a revocation is final, so it is kept;
 * a customer found alive is asked again after `cacheMs`, and an erasure in this process revokes at
 * once. (Cache ages use the process's monotonic time, not the platform clock, which may jump.)
 */
export class TokenRevocation {
  private readonly answers = new Map<string, { alive: boolean; at: number }>();

  constructor(
    private readonly isAlive: (customerId: string) => Promise<boolean>,
    private readonly cacheMs: number,
  ) {}

  async holds(customerId: string): Promise<boolean> {
    const cached = this.answers.get(customerId);
    if (cached && (!cached.alive || performance.now() - cached.at < this.cacheMs)) return cached.alive;
    const alive = await this.isAlive(customerId);
    this.remember(customerId, alive);
    return alive;
  }

  /** The customer was erased or deleted here: its tokens fail from the next request on. */
  revoke(customerId: string): void {
    this.remember(customerId, false);
  }

  private remember(customerId: string, alive: boolean): void {
    this.answers.delete(customerId);
    this.answers.set(customerId, { alive, at: performance.now() });
    if (this.answers.size > MAX_ENTRIES) this.answers.delete(this.answers.keys().next().value!);
  }
}
