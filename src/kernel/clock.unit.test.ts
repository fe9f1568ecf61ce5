import { describe, expect, it } from 'vitest';
import { ClockRewindError, TestClock } from './clock.ts';

describe('the test clock', () => {
  const wallAt = (start: number) => {
    const wall = { ms: start, now: () => wall.ms };
    return wall;
  };

  it('follows the wall clock plus the offset advances add to', () => {
    const wall = wallAt(Date.parse('2026-01-01T00:00:00Z'));
    const clock = new TestClock(undefined, { wall: wall.now });
    wall.ms += 60_000;
    expect(clock.now().toISOString()).toBe('2026-01-01T00:01:00.000Z');
    clock.advanceBy(86_400_000);
    wall.ms += 1_000;
    expect(clock.now().toISOString()).toBe('2026-01-02T00:01:01.000Z');
    expect(clock.offset).toBe(86_400_000);
    expect(() => clock.advanceTo(new Date('2026-01-01T00:00:00Z'))).toThrow(ClockRewindError);
  });

  it('stands still while frozen, moves by advances, and resumes from where it stood', () => {
    const wall = wallAt(Date.parse('2026-01-01T00:00:00Z'));
    const clock = new TestClock(new Date('2027-01-01T00:00:00Z'), { wall: wall.now, frozen: true });
    wall.ms += 5_000;
    expect(clock.now().toISOString()).toBe('2027-01-01T00:00:00.000Z');
    clock.advanceTo(new Date('2027-02-01T00:00:00Z'));
    expect(clock.now().toISOString()).toBe('2027-02-01T00:00:00.000Z');
    clock.unfreeze();
    wall.ms += 2_000;
    expect(clock.now().toISOString()).toBe('2027-02-01T00:00:02.000Z');
  });

  it('freezes at the given start even when the wall ticks while it is made', () => {
    let ms = Date.parse('2026-01-01T00:00:00Z');
    const clock = new TestClock(new Date('2026-01-01T00:00:00Z'), { wall: () => ms++, frozen: true });
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('restores a saved state, never going back', () => {
    const wall = wallAt(Date.parse('2026-01-01T00:00:00Z'));
    const saved = new TestClock(undefined, { wall: wall.now });
    saved.advanceBy(3_600_000);
    const restored = new TestClock(undefined, { wall: wall.now });
    restored.restore(saved.state());
    expect(restored.now().getTime()).toBe(saved.now().getTime());
    restored.restore({ offsetMs: 0, frozenAt: null });
    expect(restored.now().getTime()).toBe(saved.now().getTime());
  });
});
