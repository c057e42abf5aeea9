import type { PolicySet } from './compile.js';
import { policySetFromDocument } from './compile.js';
import { loadPolicyDirectory } from './load.js';
import type { PolicyVersion, PolicyVersions } from './versions.js';

/** Who stored version 1: the gateway itself, from the policies directory, at first start. */
export const SYSTEM_AUTHOR = { iss: 'doelpoort', sub: 'doelpoort:policies-dir', org: 'WERKZAAK' };

/**
 * The policy in force: the active version in the database, compiled once per version (by content hash), so the hot
 * path never rebuilds CASL abilities. Approval goes through `refresh()`, and the next request decides under the new
 * version.
 */
export class ActivePolicy {
  readonly #compiled = new Map<string, PolicySet>();
  #current!: { version: PolicyVersion; set: PolicySet };

  constructor(readonly versions: PolicyVersions) {
    this.refresh();
  }

  /** On first start the directory becomes version 1 (and must be valid); later starts use the database. */
  static bootstrap(versions: PolicyVersions, policiesDir: string): ActivePolicy {
    if (!versions.active()) versions.ensureActive(loadPolicyDirectory(policiesDir).document, SYSTEM_AUTHOR);
    return new ActivePolicy(versions);
  }

  /** The compiled set in force. */
  get set(): PolicySet {
    return this.#current.set;
  }

  /** The stored version in force (id, hash, author, approver). */
  get version(): PolicyVersion {
    return this.#current.version;
  }

  /** Re-reads the active version, after an approval. */
  refresh(): void {
    const version = this.versions.active();
    if (!version) throw new TypeError('ActivePolicy: no active policy version; bootstrap first');
    this.#current = { version, set: this.compile(version) };
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
}
