import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { openDatabase } from '../src/db.js';
import { DoelpoortError } from '../src/errors.js';
import { policyVersionOf, type PolicyDocument } from '../src/policy/index.js';
import { PolicyVersions } from '../src/policy/versions.js';

const documentHash = (d: unknown) => policyVersionOf(d as PolicyDocument);
import { TODAY } from './support.js';

const v1 = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', fields: ['voornamen'] }] };
const v2 = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', fields: ['voornamen', 'achternaam'] }] };
const alice = { sub: 'po-alice', org: 'WERKZAAK' };
const bob = { sub: 'po-bob', org: 'GM0281' };
const system = { sub: 'system', org: 'WERKZAAK' };

function setup() {
  const db = openDatabase(':memory:');
  const versions = new PolicyVersions(db, fixedClock(`${TODAY}T10:00:00Z`));
  versions.ensureActive(v1, system);
  return { db, versions };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (error instanceof DoelpoortError) return error.code;
    throw error;
  }
  throw new Error('expected a DoelpoortError');
}

describe(PolicyVersions.name, () => {
  it('stores the policies directory as version 1 on first start, and only then', () => {
    const { versions } = setup();
    expect(versions.active()).toMatchObject({ id: 1, status: 'active', hash: documentHash(v1) });
    versions.ensureActive(v2, system);
    expect(versions.list()).toHaveLength(1);
  });

  it('keeps a proposal as a draft that changes nothing until another officer approves it', () => {
    const { versions } = setup();
    const draft = versions.propose(v2, alice);
    expect(draft).toMatchObject({ id: 2, status: 'draft', baseVersion: 1, author: alice });
    expect(versions.active()!.id).toBe(1);
    expect(codeOf(() => versions.approve(2, alice))).toBe('POLICY_SELF_APPROVAL');
    expect(versions.active()!.id).toBe(1);
    const { activated, retired } = versions.approve(2, bob);
    expect(activated).toMatchObject({ id: 2, status: 'active', decider: 'po-bob' });
    expect(retired).toMatchObject({ id: 1, status: 'retired' });
    expect(versions.active()!.document).toEqual(v2);
  });

  it('refuses to approve a stale draft, one that is not a draft, or one that does not exist', () => {
    const { versions } = setup();
    versions.propose(v2, alice); // 2, based on 1
    versions.propose(v1, alice); // 3, based on 1
    versions.approve(2, bob);
    expect(codeOf(() => versions.approve(3, bob))).toBe('POLICY_STALE');
    expect(codeOf(() => versions.approve(2, bob))).toBe('POLICY_NOT_DRAFT');
    expect(codeOf(() => versions.approve(99, bob))).toBe('POLICY_NOT_FOUND');
  });

  it('rejects a draft with its reason, after which it cannot be approved', () => {
    const { versions } = setup();
    versions.propose(v2, alice);
    expect(versions.reject(2, bob, 'te ruim')).toMatchObject({ status: 'rejected', rejectReason: 'te ruim', decider: 'po-bob' });
    expect(codeOf(() => versions.approve(2, bob))).toBe('POLICY_NOT_DRAFT');
  });

  it('rolls back by proposing an old version again, through the same four eyes', () => {
    const { versions } = setup();
    versions.propose(v2, alice);
    versions.approve(2, bob);
    const again = versions.propose(versions.get(1)!.document, bob);
    versions.approve(again.id, alice);
    expect(versions.active()).toMatchObject({ id: 3, hash: documentHash(v1) });
  });

  it('never lets a stored document change, nor a version be deleted (triggers)', () => {
    const { db } = setup();
    expect(() => db.$client.prepare(`UPDATE policy_versions SET document = '{}' WHERE id = 1`).run()).toThrow(/immutable/);
    expect(() => db.$client.prepare('DELETE FROM policy_versions WHERE id = 1').run()).toThrow(/never deleted/);
  });

  it('allows one active version at most', () => {
    const { db } = setup();
    expect(() =>
      db.$client.prepare(`INSERT INTO policy_versions (document, hash, status, author_sub, author_org, created_at) VALUES ('{}', 'x', 'active', 's', 'WERKZAAK', 0)`).run(),
    ).toThrow(/UNIQUE/);
  });
});
