export interface GroupedCallsOptions<T, R> {
  /** Sends several calls as one (all or nothing), answering each one's result in order. */
  together: (items: T[]) => Promise<R[]>;
  /** Sends one call on its own. */
  alone: (item: T) => Promise<R>;
  /** Calls of the same key go in the order they were made, never two in flight at once. */
  keyOf: (item: T) => string;
  /** Sends in flight at once. */
  concurrency: number;
  /** Most calls sent together. */
  maxSize: number;
  /**
   * Whether a failed send of several may be one call's fault, so that each is sent again alone
   * (default: always). False fails them all with the error (the database unreachable).
   */
  oneCallsFault?: (error: unknown) => boolean;
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Calls made while `concurrency` sends are in flight wait and go together in the next one, so a
 * burst costs a few round trips instead of one each (a lone call goes at once, alone). When a
 * send of several fails, each of its calls is sent alone, in order: each caller gets its own
 * answer, and one refused call does not fail the others (unless `oneCallsFault` says the failure
 * concerns them all).
 */
export class GroupedCalls<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private readonly inFlight = new Set<string>();
  private sending = 0;

  constructor(private readonly options: GroupedCallsOptions<T, R>) {}

  call(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.sending < this.options.concurrency) {
      const group = this.take();
      if (group.length === 0) return;
      this.sending++;
      const keys = group.map((call) => this.options.keyOf(call.item));
      for (const key of keys) this.inFlight.add(key);
      void this.send(group).finally(() => {
        for (const key of keys) this.inFlight.delete(key);
        this.sending--;
        this.drain();
      });
    }
  }

  /** The waiting calls, oldest first, but for a key in flight or already taken (it waits for its turn, as do its later calls). */
  private take(): Waiting<T, R>[] {
    const blocked = new Set(this.inFlight);
    const group: Waiting<T, R>[] = [];
    for (let index = 0; index < this.waiting.length && group.length < this.options.maxSize;) {
      const key = this.options.keyOf(this.waiting[index]!.item);
      if (blocked.has(key)) {
        index++;
        continue;
      }
      blocked.add(key);
      group.push(...this.waiting.splice(index, 1));
    }
    return group;
  }

  private async send(group: Waiting<T, R>[]): Promise<void> {
    if (group.length > 1) {
      try {
        const results = await this.options.together(group.map((call) => call.item));
        group.forEach((call, index) => call.resolve(results[index]!));
        return;
      } catch (error) {
        if (this.options.oneCallsFault?.(error) === false) {
          for (const call of group) call.reject(error);
          return;
        }
        // Which call failed is not known: each is sent alone below and answers for itself.
      }
    }
    for (const call of group) await this.options.alone(call.item).then(call.resolve, call.reject);
  }
}
