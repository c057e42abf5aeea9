import type { Statement } from 'better-sqlite3';
import { canonicalJson } from '../canonical-json.js';
import { policyVersionOf } from './compile.js';
import type { PolicyDocument } from './document.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { DoelpoortError } from '../errors.js';

export type PolicyStatus = 'draft' | 'active' | 'retired' | 'rejected';

/** A privacy officer as the versions record them: a person is (`iss`, `sub`), of an organisation. */
export interface PolicyOfficer {
  iss: string;
  sub: string;
  org: string;
}

/** The organisation whose privacy officers approve and reject versions: Werkzaak, the controller of the records. */
export const POLICY_CONTROLLER = 'WERKZAAK';

const normalised = (s: string) => s.normalize('NFKC').toLowerCase();

/**
 * Whether two officers are the same person: the same (`iss`, `sub`) after normalising case, so `po-tiel` and `PO-TIEL`
 * of one provider are one person. A version stored before issuers were recorded has `iss` '': its author is then
 * compared by `sub` alone, which can only refuse more (fail closed).
 */
export function samePerson(a: Pick<PolicyOfficer, 'iss' | 'sub'>, b: Pick<PolicyOfficer, 'iss' | 'sub'>): boolean {
  if (normalised(a.sub) !== normalised(b.sub)) return false;
  return a.iss === '' || b.iss === '' || normalised(a.iss) === normalised(b.iss);
}

/** A stored policy version: its document never changes; only its status and decision move. */
export interface PolicyVersion {
  id: number;
  document: unknown;
  /** SHA-256 of the canonical document, hex. */
  hash: string;
  status: PolicyStatus;
  author: PolicyOfficer;
  createdAt: string;
  /** The version that was active when this one was proposed. */
  baseVersion: number | null;
  /** The `sub` of who approved or rejected it; `deciderIss` the issuer of their login. */
  decider: string | null;
  deciderIss: string | null;
  decidedAt: string | null;
  rejectReason: string | null;
}

/** A version without its document, as lists show it. */
export type PolicyVersionSummary = Omit<PolicyVersion, 'document'>;

/** The version without its document. */
export function versionSummary({ document: _, ...summary }: PolicyVersion): PolicyVersionSummary {
  return summary;
}

/** A row of policy_versions as `VERSION_COLUMNS` names it, in either database. */
export interface VersionRow {
  id: number;
  document: string;
  hash: string;
  status: PolicyStatus;
  authorIss: string;
  authorSub: string;
  authorOrg: string;
  createdAt: number;
  baseVersion: number | null;
  deciderIss: string | null;
  deciderSub: string | null;
  decidedAt: number | null;
  rejectReason: string | null;
}

/** The columns of a `VersionRow`; quoted aliases, which both SQLite and PostgreSQL keep as written. */
export const VERSION_COLUMNS = `id, document, hash, status, author_iss AS "authorIss", author_sub AS "authorSub", author_org AS "authorOrg",
  created_at AS "createdAt", base_version AS "baseVersion", decider_iss AS "deciderIss", decider_sub AS "deciderSub", decided_at AS "decidedAt",
  reject_reason AS "rejectReason"`;

/**
 * Policy versions in the database (four eyes): any privacy officer proposes drafts; a Werkzaak privacy officer who is
 * another person than the author approves one, which atomically retires the active version, or rejects it. Documents
 * are validated by the caller before they get here.
 */
export class PolicyVersions {
  readonly #get: Statement<[number], VersionRow>;
  readonly #active: Statement<[], VersionRow>;
  readonly #list: Statement<[], VersionRow>;
  readonly #insert: Statement<[string, string, string, string, string, string, number, number | null]>;
  readonly #setStatus: Statement<{
    id: number;
    status: PolicyStatus;
    deciderIss: string | null;
    decider: string | null;
    at: number | null;
    reason: string | null;
  }>;

  constructor(
    readonly db: Db,
    readonly clock: Clock,
  ) {
    const s = db.$client;
    this.#get = s.prepare(`SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE id = ?`);
    this.#active = s.prepare(`SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE status = 'active'`);
    this.#list = s.prepare(`SELECT ${VERSION_COLUMNS} FROM policy_versions ORDER BY id DESC`);
    this.#insert = s.prepare(
      'INSERT INTO policy_versions (document, hash, status, author_iss, author_sub, author_org, created_at, base_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#setStatus = s.prepare(
      `UPDATE policy_versions SET status = @status, decider_iss = coalesce(@deciderIss, decider_iss), decider_sub = coalesce(@decider, decider_sub),
        decided_at = coalesce(@at, decided_at), reject_reason = coalesce(@reason, reject_reason) WHERE id = @id`,
    );
  }

  /** The active version; the store always has one once `ensureActive` has run. */
  active(): PolicyVersion | undefined {
    const row = this.#active.get();
    return row && toVersion(row);
  }

  get(id: number): PolicyVersion | undefined {
    const row = this.#get.get(id);
    return row && toVersion(row);
  }

  list(): PolicyVersion[] {
    return this.#list.all().map(toVersion);
  }

  /** On first start: stores `document` (the policies/ directory) as version 1, active. Later starts change nothing. */
  ensureActive(document: unknown, author: PolicyOfficer): PolicyVersion {
    return this.db.$client.transaction(() => {
      const current = this.active();
      if (current) return current;
      const id = this.#insertVersion(document, 'active', author, null);
      this.#setStatus.run({ id, status: 'active', deciderIss: author.iss, decider: author.sub, at: this.clock.now(), reason: null });
      return this.get(id)!;
    })();
  }

  /** Stores a validated document as a draft, remembering which version was active at the time. */
  propose(document: unknown, author: PolicyOfficer): PolicyVersion {
    const id = this.#insertVersion(document, 'draft', author, this.active()?.id ?? null);
    return this.get(id)!;
  }

  /**
   * Activates a draft: by a Werkzaak officer who is another person than its author, only while the version it was
   * based on is still active. Runs in the caller's transaction (with the audit line), or its own.
   */
  approve(id: number, approver: PolicyOfficer): { activated: PolicyVersion; retired: PolicyVersion | undefined } {
    return this.db.$client.transaction(() => {
      requireController(approver);
      const draft = requireDraft(id, this.get(id));
      requireOtherPerson(draft, approver);
      const current = this.active();
      requireBase(draft, current);
      const at = this.clock.now();
      if (current) this.#setStatus.run({ id: current.id, status: 'retired', deciderIss: null, decider: null, at: null, reason: null });
      this.#setStatus.run({ id, status: 'active', deciderIss: approver.iss, decider: approver.sub, at, reason: null });
      return { activated: this.get(id)!, retired: current && this.get(current.id) };
    })();
  }

  /** Rejects a draft with a reason, by a Werkzaak officer; such an author may withdraw their own draft this way. */
  reject(id: number, decider: PolicyOfficer, reason: string): PolicyVersion {
    return this.db.$client.transaction(() => {
      requireController(decider);
      requireDraft(id, this.get(id));
      this.#setStatus.run({ id, status: 'rejected', deciderIss: decider.iss, decider: decider.sub, at: this.clock.now(), reason });
      return this.get(id)!;
    })();
  }

  #insertVersion(document: unknown, status: PolicyStatus, author: PolicyOfficer, base: number | null): number {
    const { text, hash } = storedDocument(document);
    const result = this.#insert.run(text, hash, status, author.iss, author.sub, author.org, this.clock.now(), base);
    return Number(result.lastInsertRowid);
  }
}

/** A document as stored: its canonical JSON and the hash of the version. */
export function storedDocument(document: unknown): { text: string; hash: string } {
  return { text: canonicalJson(document), hash: policyVersionOf(document as PolicyDocument) };
}

/** Only the controller's privacy officers decide on a version; a municipal officer may propose and simulate. */
export function requireController(officer: PolicyOfficer): void {
  if (officer.org !== POLICY_CONTROLLER)
    throw new DoelpoortError('POLICY_DECIDER_NOT_CONTROLLER', 'only a privacy officer of WERKZAAK approves or rejects a policy version');
}

/** The version `id` as a draft someone may decide on. */
export function requireDraft(id: number, version: PolicyVersion | undefined): PolicyVersion {
  if (!version) throw new DoelpoortError('POLICY_NOT_FOUND', `no policy version ${id}`);
  if (version.status !== 'draft') throw new DoelpoortError('POLICY_NOT_DRAFT', `version ${id} is ${version.status}, not a draft`);
  return version;
}

/** Four eyes: the approver is another person than the author. */
export function requireOtherPerson(draft: PolicyVersion, approver: PolicyOfficer): void {
  if (samePerson(draft.author, approver)) throw new DoelpoortError('POLICY_SELF_APPROVAL', 'the author of a version cannot approve it');
}

/** The version a draft was based on is the one active now (`activeId`), or the draft is stale. */
export function requireBase(draft: PolicyVersion, active: Pick<PolicyVersion, 'id'> | undefined): void {
  if ((active?.id ?? null) !== draft.baseVersion) throw staleDraft(draft, active?.id ?? null);
}

/** POLICY_STALE: the active version changed since `draft` was proposed (to `activeId`, when known). */
export function staleDraft(draft: PolicyVersion, activeId: number | null | undefined): DoelpoortError {
  const active = activeId === undefined ? 'another' : (activeId ?? 'none');
  return new DoelpoortError(
    'POLICY_STALE',
    `the active version changed since this draft was proposed (it was based on ${draft.baseVersion ?? 'none'}, active is ${active}); propose it again`,
  );
}

/** A stored row as a version. */
export function toVersion(row: VersionRow): PolicyVersion {
  return {
    id: row.id,
    document: JSON.parse(row.document) as unknown,
    hash: row.hash,
    status: row.status,
    author: { iss: row.authorIss, sub: row.authorSub, org: row.authorOrg },
    createdAt: new Date(row.createdAt).toISOString(),
    baseVersion: row.baseVersion,
    decider: row.deciderSub,
    deciderIss: row.deciderIss,
    decidedAt: row.decidedAt === null ? null : new Date(row.decidedAt).toISOString(),
    rejectReason: row.rejectReason,
  };
}
