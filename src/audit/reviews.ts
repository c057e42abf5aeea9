import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import { DoelpoortError } from '../errors.js';

/**
 * The review trail's rows (schema/oversight.ts): inserted only, in the unit of work that appends their
 * `oversight.reviewed` line, so a review exists exactly when its line does. Synchronous, over the state database.
 */

/** What a review is about: a monthly report, a per-person report, the break-glass queue, or a period of the log. */
export const REVIEW_SUBJECTS = ['monthly', 'users', 'break-glass', 'period'] as const;
export type ReviewSubject = (typeof REVIEW_SUBJECTS)[number];

/** A review as recorded. */
export interface Review {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  officer: { iss: string; sub: string; org: string };
  subject: ReviewSubject;
  /** Local calendar days (`YYYY-MM-DD`, Europe/Amsterdam), inclusive. */
  periodFrom: string;
  periodTo: string;
  note: string;
}

/** One page of reviews, newest first; `next` is the cursor of the following page, null on the last. */
export interface ReviewPage {
  items: Review[];
  next: string | null;
}

/** A row of oversight_reviews as `REVIEW_COLUMNS` names it, in either database. */
export type ReviewRow = {
  id: number;
  at: number;
  officerIss: string;
  officerSub: string;
  officerOrg: string;
  subject: ReviewSubject;
  periodFrom: string;
  periodTo: string;
  note: string;
};

const CURSOR_PREFIX = 'r1.';

function encodeCursor(id: number): string {
  return CURSOR_PREFIX + Buffer.from(String(id)).toString('base64url');
}

/** The id a cursor of `reviewPage` says to read before; REQUEST_INVALID when it is not one. */
export function decodeCursor(cursor: string): number {
  const id = cursor.startsWith(CURSOR_PREFIX) ? Number(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString()) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw new DoelpoortError('REQUEST_INVALID', 'reviews: cursor is invalid');
  return id;
}

/** The columns of a `ReviewRow`; quoted aliases, which both SQLite and PostgreSQL keep as written. */
export const REVIEW_COLUMNS = `id, at, officer_iss AS "officerIss", officer_sub AS "officerSub", officer_org AS "officerOrg", subject,
  period_from AS "periodFrom", period_to AS "periodTo", note`;

/** The page of `limit` reviews in `rows`, read with `limit + 1` newest first. */
export function reviewPage(rows: ReviewRow[], limit: number): ReviewPage {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(
    ({ officerIss, officerSub, officerOrg, ...r }): Review => ({ ...r, officer: { iss: officerIss, sub: officerSub, org: officerOrg } }),
  );
  return { items, next: more ? encodeCursor(items[items.length - 1]!.id) : null };
}

/** The review trail over the state database. */
export class OversightReviews {
  readonly #insert: Statement<Omit<ReviewRow, 'id'>>;
  readonly #all: Statement<{ before: number; limit: number }, ReviewRow>;
  readonly #ofOrg: Statement<{ before: number; limit: number; org: string }, ReviewRow>;

  constructor(db: Db) {
    const s = db.$client;
    this.#insert = s.prepare(
      `INSERT INTO oversight_reviews (at, officer_iss, officer_sub, officer_org, subject, period_from, period_to, note)
       VALUES (@at, @officerIss, @officerSub, @officerOrg, @subject, @periodFrom, @periodTo, @note)`,
    );
    this.#all = s.prepare(`SELECT ${REVIEW_COLUMNS} FROM oversight_reviews WHERE id < @before ORDER BY id DESC LIMIT @limit`);
    this.#ofOrg = s.prepare(`SELECT ${REVIEW_COLUMNS} FROM oversight_reviews WHERE officer_org = @org AND id < @before ORDER BY id DESC LIMIT @limit`);
  }

  /** Stores a review; its id. */
  record(review: Omit<Review, 'id'>): number {
    const { officer, ...rest } = review;
    const info = this.#insert.run({ ...rest, officerIss: officer.iss, officerSub: officer.sub, officerOrg: officer.org });
    return Number(info.lastInsertRowid);
  }

  /** Reviews newest first, a page at a time; with `org`, only those recorded by that organisation's officers. */
  list(query: { org?: string | undefined; cursor?: string | undefined; limit: number }): ReviewPage {
    const params = { before: query.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(query.cursor), limit: query.limit + 1 };
    const rows = query.org === undefined ? this.#all.all(params) : this.#ofOrg.all({ ...params, org: query.org });
    return reviewPage(rows, query.limit);
  }
}
