import { type Queryable, rows } from '../pg-query.js';
import { decodeCursor, REVIEW_COLUMNS, type Review, type ReviewPage, type ReviewRow, reviewPage } from './reviews.js';

/**
 * The review trail on PostgreSQL: OversightReviews (src/audit/reviews.ts) with the same answers, asynchronous;
 * inserted only (the migration's triggers refuse UPDATE and DELETE), in the unit of work of its line.
 */
export class PgOversightReviews {
  constructor(readonly q: Queryable) {}

  /** The same trail on another queryable (a transaction's client). */
  on(q: Queryable): PgOversightReviews {
    return new PgOversightReviews(q);
  }

  /** Stores a review; its id. */
  async record(review: Omit<Review, 'id'>): Promise<number> {
    const { officer, at, subject, periodFrom, periodTo, note } = review;
    const [row] = await rows<{ id: number }>(
      this.q,
      `INSERT INTO oversight_reviews (at, officer_iss, officer_sub, officer_org, subject, period_from, period_to, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [at, officer.iss, officer.sub, officer.org, subject, periodFrom, periodTo, note],
    );
    return row!.id;
  }

  /** Reviews newest first, a page at a time; with `org`, only those recorded by that organisation's officers. */
  async list(query: { org?: string | undefined; cursor?: string | undefined; limit: number }): Promise<ReviewPage> {
    const before = query.cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(query.cursor);
    const found =
      query.org === undefined
        ? await rows<ReviewRow>(this.q, `SELECT ${REVIEW_COLUMNS} FROM oversight_reviews WHERE id < $1 ORDER BY id DESC LIMIT $2`, [before, query.limit + 1])
        : await rows<ReviewRow>(this.q, `SELECT ${REVIEW_COLUMNS} FROM oversight_reviews WHERE officer_org = $3 AND id < $1 ORDER BY id DESC LIMIT $2`, [
            before,
            query.limit + 1,
            query.org,
          ]);
    return reviewPage(found, query.limit);
  }
}
