/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same run. `fork` gives each
 * customer its own stream, so its choices do not depend on the order concurrent requests finish in.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** An integer in [min, max). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length)] as T;
  }

  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let draw = this.next() * total;
    for (const [item, weight] of entries) {
      draw -= weight;
      if (draw < 0) return item;
    }
    return entries[entries.length - 1]![0];
  }

  /** Days until an event that happens with `perDay` probability each day (geometric, at least 1). */
  daysUntil(perDay: number): number {
    if (perDay <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.ceil(Math.log(1 - this.next()) / Math.log(1 - perDay)));
  }

  fork(label: string | number): Random {
    return new Random(hash(`${this.seed}/${label}`));
  }
}

/** FNV-1a: a stable 32-bit seed from a label. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) value = Math.imul(value ^ text.charCodeAt(i), 0x01000193);
  return value >>> 0;
}
