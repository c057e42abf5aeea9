/** The time source every module takes as a dependency, so tests run on a fixed clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** One calendar day in milliseconds (UTC days have no leap seconds in epoch time). */
export const DAY_MS = 86_400_000;

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still at `iso` until moved; for tests and replay. */
export function fixedClock(iso: string): Clock & { advance(ms: number): void } {
  let t = Date.parse(iso);
  if (Number.isNaN(t)) throw new TypeError('fixedClock: not an ISO date');
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** The calendar date (`YYYY-MM-DD`, UTC) of a clock reading, the form every Suite date has. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
