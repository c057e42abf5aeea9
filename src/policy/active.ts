import type { Awaitable } from '../unit-of-work.js';
import type { PolicySet } from './compile.js';
import { policySetFromDocument } from './compile.js';
import { loadPolicyDirectory } from './load.js';
import type { PolicyVersion, PolicyVersions } from './versions.js';

/** Who stored version 1: the gateway itself, from the policies directory, at first start. */
export const SYSTEM_AUTHOR = { iss: 'doelpoort', sub: 'doelpoort:policies-dir', org: 'WERKZAAK' };

/**
 * The policy in force as the verbs see it, whatever the database: the compiled set and its stored version, the
 * compiled sets of other versions, and a re-read after an approval (which may wait on the database).
 */
export interface PolicyInForce {
  readonly set: PolicySet;
  readonly version: PolicyVersion;
  compile(version: Pick<PolicyVersion, 'hash' | 'document'>): PolicySet;
  /** Re-reads the active version, after an approval. */
  refresh(): Awaitable<void>;
  /** The stored versions, read outside any transaction (the impact replay). */
  readonly versions: { get(id: number): Awaitable<PolicyVersion | undefined> };
}

/**
 * The compiled policy sets, one per version (by content hash), and the version in force: what every `PolicyInForce`
 * keeps, so that the hot path never rebuilds CASL abilities.
 */
export abstract class CompiledPolicies {
  readonly #compiled = new Map<string, PolicySet>();
  #current: { version: PolicyVersion; set: PolicySet } | undefined;

  /** The compiled set in force. */
  get set(): PolicySet {
    return this.#inForce().set;
  }

  /** The stored version in force (id, hash, author, approver). */
  get version(): PolicyVersion {
    return this.#inForce().version;
  }

  /** The compiled set of any stored version (drafts for simulation and impact), cached by content hash. */
  compile(version: Pick<PolicyVersion, 'hash' | 'document'>): PolicySet {
    let set = this.#compiled.get(version.hash);
    if (!set) {
      set = policySetFromDocument(version.document);
      this.#compiled.set(version.hash, set);
    }
    return set;
  }

  /** Puts `version` (the active one, just read) in force; compiled first, so a bad document changes nothing. */
  protected adopt(version: PolicyVersion | undefined): void {
    if (!version) throw new TypeError('ActivePolicy: no active policy version; bootstrap first');
    this.#current = { version, set: this.compile(version) };
  }

  #inForce(): { version: PolicyVersion; set: PolicySet } {
    if (!this.#current) throw new TypeError('ActivePolicy: no active policy version read yet');
    return this.#current;
  }
}

/**
 * The policy in force in one process (SQLite): the active version in the database, compiled once per version.
 * Approval goes through `refresh()`, and the next request decides under the new version.
 */
export class ActivePolicy extends CompiledPolicies implements PolicyInForce {
  constructor(readonly versions: PolicyVersions) {
    super();
    this.refresh();
  }

  /** On first start the directory becomes version 1 (and must be valid); later starts use the database. */
  static bootstrap(versions: PolicyVersions, policiesDir: string): ActivePolicy {
    if (!versions.active()) versions.ensureActive(loadPolicyDirectory(policiesDir).document, SYSTEM_AUTHOR);
    return new ActivePolicy(versions);
  }

  /** Re-reads the active version, after an approval. */
  refresh(): void {
    this.adopt(this.versions.active());
  }
}
