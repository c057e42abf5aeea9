/**
 * Office hours in the time zone of the people whose work the log records (Europe/Amsterdam, summer time included):
 * the oversight reports count accesses between 19:00 and 07:00 local time and at weekends (Saturday and Sunday), and
 * report calendar months and days of that zone. The zone's rules come from the platform's time-zone data (Intl), never
 * from a table of our own.
 */

/** The time zone of the reports' hours, days and months. */
export const TIME_ZONE = 'Europe/Amsterdam';

/** Local office hours: from 07:00 until 19:00; everything else is off-hours (avond en nacht). */
export const OFFICE_HOURS = { from: 7, to: 19 } as const;

/** Bit of a time class: the moment lies between 19:00 and 07:00 local time. */
export const OFF_HOURS = 1;
/** Bit of a time class: the moment lies on a Saturday or a Sunday, local time. */
export const WEEKEND = 2;

/**
 * A moment's time class as stored in `audit_log.time_class`: 0 a weekday 07:00–19:00, 1 a weekday night, 2 a weekend
 * day, 3 a weekend night (OFF_HOURS | WEEKEND).
 */
export type TimeClass = 0 | 1 | 2 | 3;

const HOUR_MS = 3_600_000;

const wallClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

/** The local wall-clock reading of a moment, as the epoch milliseconds that reading would be in UTC (to the minute). */
function wallMs(at: number): number {
  const p: Record<string, number> = {};
  for (const part of wallClock.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
}

/** How far local time is ahead of UTC at `at`, in milliseconds. */
function offsetAt(at: number): number {
  return wallMs(at) - (at - (((at % 60_000) + 60_000) % 60_000));
}

// Amsterdam's offset is a whole number of hours and changes only on a whole UTC hour (since 1940), so one UTC hour has
// one class: the class is computed once per hour, and appends (in time order) nearly always hit the last one.
let cachedHour = Number.NaN;
let cachedClass: TimeClass = 0;

/** The time class of a moment (epoch ms) in Europe/Amsterdam. */
export function timeClass(at: number): TimeClass {
  const hour = Math.floor(at / HOUR_MS);
  if (hour === cachedHour) return cachedClass;
  const wall = wallMs(hour * HOUR_MS);
  const h = new Date(wall).getUTCHours();
  const day = new Date(wall).getUTCDay();
  const c = ((h >= OFFICE_HOURS.to || h < OFFICE_HOURS.from ? OFF_HOURS : 0) | (day === 0 || day === 6 ? WEEKEND : 0)) as TimeClass;
  cachedHour = hour;
  cachedClass = c;
  return c;
}

/** The moment local midnight starts `date` (`YYYY-MM-DD`) in Europe/Amsterdam (midnight is never skipped there). */
export function localDayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  const guess = wall - offsetAt(wall);
  return wall - offsetAt(guess);
}

/** The local calendar date (`YYYY-MM-DD`) of a moment in Europe/Amsterdam. */
export function localDate(at: number): string {
  return new Date(wallMs(at)).toISOString().slice(0, 10);
}

/** The calendar month `month` (`YYYY-MM`) moved by `by` months. */
export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return d.toISOString().slice(0, 7);
}

/** A local calendar month as moments: from its first midnight (inclusive) to the next month's (exclusive). */
export function monthBounds(month: string): { from: number; to: number } {
  return { from: localDayStart(`${month}-01`), to: localDayStart(`${shiftMonth(month, 1)}-01`) };
}

/** Local calendar days `from`..`to` (inclusive) as moments: from the first's midnight to the midnight after the last. */
export function dayBounds(from: string, to: string): { from: number; to: number } {
  const next = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from: localDayStart(from), to: localDayStart(next) };
}
