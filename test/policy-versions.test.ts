import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { openDatabase } from '../src/db.js';
import { DoelpoortError } from '../src/errors.js';
import { policyVersionOf } from '../src/policy/compile.js';
import type { PolicyDocument } from '../src/policy/document.js';
import { PolicyVersions } from '../src/policy/versions.js';

const documentHash = (d: unknown) => policyVersionOf(d as PolicyDocument);
import { TODAY } from './support.js';

const v1 = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', fields: ['voornamen'] }] };
const v2 = { rules: [{ role: 'werkcoach', purpose: 'overdracht-kp3', action: 'read', subject: 'Persoon', fields: ['voornamen', 'achternaam'] }] };
const WERKZAAK_IDP = 'https://login.werkzaak.example';
const alice = { iss: WERKZAAK_IDP, sub: 'po-alice', org: 'WERKZAAK' };
const bob = { iss: WERKZAAK_IDP, sub: 'po-bob', org: 'WERKZAAK' };
const tiel = { iss: 'https://login.tiel.example', sub: 'po-tiel', org: 'GM0281' };
const system = { iss: 'doelpoort', sub: 'system', org: 'WERKZAAK' };

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
    expect(activated).toMatchObject({ id: 2, status: 'active', decider: 'po-bob', deciderIss: WERKZAAK_IDP });
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

  it('counts a case variant of the author (same issuer) as the author: no self-approval', () => {
    const { versions } = setup();
    versions.propose(v2, { iss: WERKZAAK_IDP, sub: 'po-alice', org: 'WERKZAAK' });
    expect(codeOf(() => versions.approve(2, { iss: WERKZAAK_IDP, sub: 'PO-ALICE', org: 'WERKZAAK' }))).toBe('POLICY_SELF_APPROVAL');
    expect(codeOf(() => versions.approve(2, { iss: WERKZAAK_IDP.toUpperCase(), sub: 'Po-Alice', org: 'WERKZAAK' }))).toBe('POLICY_SELF_APPROVAL');
    expect(versions.active()!.id).toBe(1);
  });

  it('counts the same sub from two issuers as two persons', () => {
    const { versions } = setup();
    versions.propose(v2, { iss: WERKZAAK_IDP, sub: 'po-1', org: 'WERKZAAK' });
    expect(versions.approve(2, { iss: 'https://login.other.example', sub: 'po-1', org: 'WERKZAAK' }).activated).toMatchObject({ id: 2, status: 'active' });
  });

  it('compares by sub alone when the author’s issuer was not recorded (a version from before), failing closed', () => {
    const { db, versions } = setup();
    db.$client
      .prepare(
        `INSERT INTO policy_versions (document, hash, status, author_sub, author_org, created_at, base_version) VALUES (?, ?, 'draft', 'po-old', 'WERKZAAK', 0, 1)`,
      )
      .run(JSON.stringify(v2), documentHash(v2));
    expect(versions.get(2)!.author).toEqual({ iss: '', sub: 'po-old', org: 'WERKZAAK' });
    expect(codeOf(() => versions.approve(2, { iss: WERKZAAK_IDP, sub: 'po-old', org: 'WERKZAAK' }))).toBe('POLICY_SELF_APPROVAL');
  });

  it('lets only a privacy officer of WERKZAAK approve or reject; a municipal officer may propose', () => {
    const { versions } = setup();
    versions.propose(v2, tiel);
    expect(codeOf(() => versions.approve(2, { ...tiel, sub: 'po-tiel-2' }))).toBe('POLICY_DECIDER_NOT_CONTROLLER');
    expect(codeOf(() => versions.reject(2, tiel, 'ingetrokken'))).toBe('POLICY_DECIDER_NOT_CONTROLLER');
    expect(versions.get(2)!.status).toBe('draft');
    expect(versions.approve(2, bob).activated).toMatchObject({ id: 2, author: tiel, decider: 'po-bob' });
  });

  it('never lets a stored document change, nor a version be deleted (triggers)', () => {
    const { db } = setup();
    expect(() => db.$client.prepare(`UPDATE policy_versions SET author_iss = 'https://x.example' WHERE id = 1`).run()).toThrow(/immutable/);
    expect(() => db.$client.prepare(`UPDATE policy_versions SET author_org = 'GM0281' WHERE id = 1`).run()).toThrow(/immutable/);
    expect(() => db.$client.prepare(`UPDATE policy_versions SET document = '{}' WHERE id = 1`).run()).toThrow(/immutable/);
    expect(() => db.$client.prepare('DELETE FROM policy_versions WHERE id = 1').run()).toThrow(/never deleted/);
  });

  it('allows one active version at most', () => {
    const { db } = setup();
    expect(() =>
      db.$client
        .prepare(`INSERT INTO policy_versions (document, hash, status, author_sub, author_org, created_at) VALUES ('{}', 'x', 'active', 's', 'WERKZAAK', 0)`)
        .run(),
    ).toThrow(/UNIQUE/);
  });
});
