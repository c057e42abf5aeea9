import pg from 'pg';
import { isDoelpoortError } from '../errors.js';
import { CompiledPolicies, type PolicyInForce } from './active.js';
import type { PolicyVersion } from './versions.js';

/** The channel a version's activation is announced on (schema/pg-migrations/0003_policy_notify.sql, a trigger). */
export const POLICY_CHANNEL = 'doelpoort_policy_active';
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_NAME = 'doelpoort-policy-listener';
/** The fallback: how often the active version's id is read, and how soon a lost listener connects again. */
const POLL_MS = 1000;

/** The stored versions the policy in force reads (src/policy/versions-pg.ts PgPolicyVersions). */
export interface ActiveVersionSource {
  active(): Promise<PolicyVersion | undefined>;
  get(id: number): Promise<PolicyVersion | undefined>;
}

/**
 * The policy in force on one of several instances (PostgreSQL): an approval on any instance is in force on this one
 * within a second. A connection of its own LISTENs on POLICY_CHANNEL, where the approving transaction's NOTIFY
 * arrives once it committed; because a listener connection can drop unnoticed for a while, the active version's id
 * is also read every second, and a lost listener connects again and re-reads. Until then the version in force stays
 * the last one read: an instance never serves a version that was not active, only one that just stopped being.
 */
export class PgActivePolicy extends CompiledPolicies implements PolicyInForce {
  readonly #pool: pg.Pool;
  #listener: pg.Client | undefined;
  #poll: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  private constructor(
    pool: pg.Pool,
    readonly versions: ActiveVersionSource,
  ) {
    super();
    this.#pool = pool;
  }

  /** Reads the active version (there must be one: the first instance stored it), then follows it. */
  static async open(pool: pg.Pool, versions: ActiveVersionSource): Promise<PgActivePolicy> {
    const policy = new PgActivePolicy(pool, versions);
    await policy.refresh();
    await policy.#listen().catch(() => policy.#lost(undefined));
    policy.#poll = setInterval(() => void policy.#check(), POLL_MS);
    policy.#poll.unref();
    return policy;
  }

  /** Re-reads the active version (after an approval here, a notification, a changed id, a reconnect). */
  refresh(): Promise<void> {
    // One read at a time; a request for another while one runs waits for it and reads again.
    const next = (this.#refreshing ?? Promise.resolve()).then(async () => this.adopt(await this.versions.active()));
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#refreshing = settled;
    void settled.then(() => {
      if (this.#refreshing === settled) this.#refreshing = undefined;
    });
    return next;
  }

  /** Whether the listener connection is up (for health and tests). */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** Stops following: the poll, the listener connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    clearTimeout(this.#reconnect);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => {});
    await this.#refreshing;
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ ...this.#pool.options, application_name: LISTENER_NAME });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (n) => {
      if (n.channel === POLICY_CHANNEL && Number(n.payload) !== this.version.id) void this.#refreshLogged();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${POLICY_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#listener = client;
  }

  /** The listener connection dropped (or never came up): connect again shortly, then re-read what was missed. */
  #lost(client: pg.Client | undefined): void {
    if (client !== undefined && client !== this.#listener) return;
    this.#listener = undefined;
    client?.end().catch(() => {});
    if (this.#closed || this.#reconnect) return;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      if (this.#closed) return;
      this.#listen()
        .then(() => this.#refreshLogged())
        .catch(() => this.#lost(undefined));
    }, POLL_MS);
    this.#reconnect.unref();
  }

  /** The fallback poll: the active version's id, and a re-read when it is not the one in force. */
  async #check(): Promise<void> {
    try {
      const { rows } = await this.#pool.query<{ id: number }>("SELECT id FROM policy_versions WHERE status = 'active'");
      this.#failing = false;
      if (rows[0] && Number(rows[0].id) !== this.version.id) await this.refresh();
    } catch (error) {
      this.#report(error);
    }
  }

  async #refreshLogged(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.#report(error);
    }
  }

  /** One log line when following starts failing, not one a second; never a value. */
  #report(error: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    const code = isDoelpoortError(error) ? error.code : ((error as { code?: string }).code ?? 'INTERNAL');
    console.error(JSON.stringify({ level: 'error', msg: 'active policy not re-read; the version read last stays in force', code }));
  }
}
