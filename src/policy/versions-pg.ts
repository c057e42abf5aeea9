import type { Clock } from '../clock.js';
import { atomically, changes, isUniqueViolation, type Queryable, rows } from '../pg-query.js';
import {
  type PolicyOfficer,
  type PolicyStatus,
  type PolicyVersion,
  requireBase,
  requireController,
  requireDraft,
  requireOtherPerson,
  staleDraft,
  storedDocument,
  toVersion,
  VERSION_COLUMNS,
  type VersionRow,
} from './versions.js';

/** The partial unique index that admits one active version at most (schema/pg/policies.ts). */
const ONE_ACTIVE = 'policy_versions_one_active';

const SET_STATUS = `UPDATE policy_versions SET status = $2, decider_iss = coalesce($3, decider_iss), decider_sub = coalesce($4, decider_sub),
  decided_at = coalesce($5::bigint, decided_at), reject_reason = coalesce($6, reject_reason) WHERE id = $1 AND status = $7`;

/**
 * Policy versions on PostgreSQL, with the four eyes and base-version rules of PolicyVersions (src/policy/versions.ts,
 * whose checks this class calls) and its errors. Several instances share the table, so an approval also guards
 * against a concurrent one: the draft is read FOR UPDATE, the active version is retired only while still active
 * (READ COMMITTED re-reads a row another transaction changed), and the partial unique index on the active status
 * refuses a second active version whatever happens; each of these ends in POLICY_STALE or POLICY_NOT_DRAFT.
 */
export class PgPolicyVersions {
  constructor(
    readonly q: Queryable,
    readonly clock: Clock,
  ) {}

  /** The same versions on another queryable (a transaction's client). */
  on(q: Queryable): PgPolicyVersions {
    return new PgPolicyVersions(q, this.clock);
  }

  /** The active version; the store always has one once `ensureActive` has run. */
  async active(): Promise<PolicyVersion | undefined> {
    return activeOn(this.q);
  }

  async get(id: number): Promise<PolicyVersion | undefined> {
    return versionOn(this.q, id);
  }

  async list(): Promise<PolicyVersion[]> {
    return (await rows<VersionRow>(this.q, `SELECT ${VERSION_COLUMNS} FROM policy_versions ORDER BY id DESC`)).map(toVersion);
  }

  /**
   * On first start: stores `document` as version 1, active. Later starts change nothing; of two instances starting
   * at once on an empty table one stores it, and the other finds that one.
   */
  async ensureActive(document: unknown, author: PolicyOfficer): Promise<PolicyVersion> {
    try {
      return await atomically(this.q, async (c) => {
        const current = await activeOn(c);
        if (current) return current;
        const id = await this.#insert(c, document, 'active', author, false);
        await changes(c, SET_STATUS, [id, 'active', author.iss, author.sub, this.clock.now(), null, 'active']);
        return (await versionOn(c, id))!;
      });
    } catch (error) {
      if (!isUniqueViolation(error, ONE_ACTIVE)) throw error;
      return (await this.active())!;
    }
  }

  /** Stores a validated document as a draft, remembering which version was active at the time. */
  async propose(document: unknown, author: PolicyOfficer): Promise<PolicyVersion> {
    const id = await this.#insert(this.q, document, 'draft', author, true);
    return (await this.get(id))!;
  }

  /**
   * Activates a draft: by a Werkzaak officer who is another person than its author, only while the version it was
   * based on is still active. Atomic on its own, or part of the caller's transaction (with the audit line).
   */
  async approve(id: number, approver: PolicyOfficer): Promise<{ activated: PolicyVersion; retired: PolicyVersion | undefined }> {
    let draft: PolicyVersion | undefined;
    try {
      return await atomically(this.q, async (c) => {
        requireController(approver);
        draft = requireDraft(id, await versionOn(c, id, true));
        requireOtherPerson(draft, approver);
        const current = await activeOn(c);
        requireBase(draft, current);
        const at = this.clock.now();
        if (current && (await changes(c, SET_STATUS, [current.id, 'retired', null, null, null, null, 'active'])) !== 1) throw staleDraft(draft, undefined);
        await changes(c, SET_STATUS, [id, 'active', approver.iss, approver.sub, at, null, 'draft']);
        return { activated: (await versionOn(c, id))!, retired: current && (await versionOn(c, current.id)) };
      });
    } catch (error) {
      if (draft && isUniqueViolation(error, ONE_ACTIVE)) throw staleDraft(draft, undefined);
      throw error;
    }
  }

  /** Rejects a draft with a reason, by a Werkzaak officer; such an author may withdraw their own draft this way. */
  async reject(id: number, decider: PolicyOfficer, reason: string): Promise<PolicyVersion> {
    return atomically(this.q, async (c) => {
      requireController(decider);
      requireDraft(id, await versionOn(c, id, true));
      await changes(c, SET_STATUS, [id, 'rejected', decider.iss, decider.sub, this.clock.now(), reason, 'draft']);
      return (await versionOn(c, id))!;
    });
  }

  /** Inserts a version; its base is the version active in the same statement when `based`. Its id. */
  async #insert(q: Queryable, document: unknown, status: PolicyStatus, author: PolicyOfficer, based: boolean): Promise<number> {
    const { text, hash } = storedDocument(document);
    const base = based ? `(SELECT id FROM policy_versions WHERE status = 'active')` : 'NULL';
    const [row] = await rows<{ id: number }>(
      q,
      `INSERT INTO policy_versions (document, hash, status, author_iss, author_sub, author_org, created_at, base_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, ${base}) RETURNING id`,
      [text, hash, status, author.iss, author.sub, author.org, this.clock.now()],
    );
    return row!.id;
  }
}

async function activeOn(q: Queryable): Promise<PolicyVersion | undefined> {
  const [row] = await rows<VersionRow>(q, `SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE status = 'active'`);
  return row && toVersion(row);
}

/** One version; `lock`: FOR UPDATE, so that a concurrent decision on it waits for this transaction. */
async function versionOn(q: Queryable, id: number, lock = false): Promise<PolicyVersion | undefined> {
  const [row] = await rows<VersionRow>(q, `SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return row && toVersion(row);
}
