import fs from 'node:fs';
import path from 'node:path';
import { compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, signCheckpoint } from '../src/audit/checkpoint.js';
import { CHECKPOINT_KEY_FILE, generateCheckpointKey, loadAuditKeys, loadOrCreateCheckpointKey, publicKeyFromJwk } from '../src/audit/keys.js';
import { tempDir } from './support.js';
import { appendMany, appendOne, inTransaction, readEntry, setupAudit } from './audit-support.js';

function setup(lines = 25) {
  const ctx = setupAudit({ checkpointEvery: 10, checkpointMinutes: 100_000 });
  appendMany(ctx.audit, ctx.clock, lines);
  return ctx;
}

const sizes = (db: ReturnType<typeof setup>['db']) => db.$client.prepare('SELECT size FROM audit_checkpoints ORDER BY size').pluck().all();

describe('signed checkpoints', () => {
  it('are written on the first line and every checkpointEvery lines, and verify', () => {
    const { db, audit } = setup();
    expect(sizes(db)).toEqual([1, 10, 20]);
    expect(audit.verify()).toMatchObject({ ok: true, records: 25, checkpoints: 3 });
  });

  it('are also written when checkpointMinutes have passed since the last', () => {
    const { db, audit, clock } = setupAudit({ checkpointEvery: 1000, checkpointMinutes: 10 });
    appendOne(audit, readEntry(1));
    clock.advance(9 * 60_000);
    appendOne(audit, readEntry(2));
    clock.advance(60_000);
    appendOne(audit, readEntry(3));
    expect(sizes(db)).toEqual([1, 3]);
  });

  it('roll back with the line that triggered them', () => {
    const { db, audit } = setup(9);
    expect(() =>
      inTransaction(audit, () => {
        audit.appendInTransaction(readEntry(10));
        throw new Error('the work failed');
      }),
    ).toThrow();
    expect(sizes(db)).toEqual([1]);
    appendOne(audit, readEntry(10));
    expect(sizes(db)).toEqual([1, 10]);
    expect(audit.verify()).toMatchObject({ ok: true, records: 10 });
  });

  it('are compact JWS that jose accepts under the published key', async () => {
    const { audit } = setup();
    const latest = audit.latestCheckpoint()!;
    const { payload, protectedHeader } = await compactVerify(latest.signature, await importJWK(audit.checkpointJwk!, 'EdDSA'));
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: audit.checkpointJwk!.kid });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ size: latest.size, head: latest.head, at: latest.at });
  });

  it('checkpoint() covers the current head once', () => {
    const { db, audit } = setup();
    expect(audit.checkpoint()).toMatchObject({ size: 25 });
    expect(audit.checkpoint()).toMatchObject({ size: 25 });
    expect(sizes(db)).toEqual([1, 10, 20, 25]);
  });

  it('a stored checkpoint signed by another key is refused', () => {
    const { db, audit } = setup();
    const head = (db.$client.prepare('SELECT chain_hash FROM audit_log WHERE seq = 15').pluck().get() as Buffer).toString('hex');
    const forged = signCheckpoint(generateCheckpointKey(), { size: 15, head, at: 0 });
    db.$client.prepare('INSERT INTO audit_checkpoints (size, head, at, signature) VALUES (15, ?, 0, ?)').run(Buffer.from(head, 'hex'), forged);
    expect(audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 15, reason: 'CHECKPOINT_INVALID' } });
  });

  it('an external checkpoint must match the chain at its size', () => {
    const { audit, checkpointKey } = setup();
    const good = audit.latestCheckpoint()!;
    expect(audit.verify({ external: [good.signature] })).toMatchObject({ ok: true, checkpoints: 4 });

    const alteredHead = signCheckpoint(checkpointKey!, { ...good, head: 'ab'.repeat(32) });
    expect(audit.verify({ external: [alteredHead] })).toMatchObject({ ok: false, firstBad: { seq: 20, reason: 'CHECKPOINT_MISMATCH' } });

    const beyond = signCheckpoint(checkpointKey!, { ...good, size: 26 });
    expect(audit.verify({ external: [beyond] })).toMatchObject({ ok: false, firstBad: { seq: 26, reason: 'CHECKPOINT_BEYOND_END' } });
  });

  it('an external checkpoint with an altered payload or a foreign signature is refused', () => {
    const { audit } = setup();
    const [h, , sig] = audit.latestCheckpoint()!.signature.split('.');
    const payload = Buffer.from(JSON.stringify({ size: 10, head: 'ab'.repeat(32), at: 0 })).toString('base64url');
    expect(audit.verify({ external: [`${h}.${payload}.${sig}`] })).toMatchObject({ ok: false, firstBad: { seq: 10, reason: 'CHECKPOINT_INVALID' } });
    const foreign = signCheckpoint(generateCheckpointKey(), audit.latestCheckpoint()!);
    expect(audit.verify({ external: [foreign] })).toMatchObject({ ok: false, firstBad: { reason: 'CHECKPOINT_INVALID' } });
    expect(audit.verify({ external: ['not a jws'] })).toMatchObject({ ok: false, firstBad: { reason: 'CHECKPOINT_INVALID' } });
  });

  it('openCheckpoint refuses another alg or typ', () => {
    const key = generateCheckpointKey();
    const jws = signCheckpoint(key, { size: 1, head: '00'.repeat(32), at: 0 });
    expect(openCheckpoint(jws, key.publicKey)).toEqual({ size: 1, head: '00'.repeat(32), at: 0 });
    const [, p, s] = jws.split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'doelpoort-checkpoint+jws' })).toString('base64url');
    expect(openCheckpoint(`${none}.${p}.${s}`, key.publicKey)).toBeNull();
  });
});

describe(loadOrCreateCheckpointKey.name, () => {
  it('creates the key once, mode 0600, and loads the same key again', () => {
    const dir = tempDir();
    const first = loadOrCreateCheckpointKey(dir);
    const file = path.join(dir, CHECKPOINT_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateCheckpointKey(dir).kid).toBe(first.kid);
    expect(first.publicJwk).not.toHaveProperty('d');
    expect(publicKeyFromJwk(first.publicJwk).equals(first.publicKey)).toBe(true);
  });

  it('loadAuditKeys gives the pseudonym key and the checkpoint key from one data dir', () => {
    const dir = tempDir();
    const a = loadAuditKeys(dir);
    const b = loadAuditKeys(dir);
    expect(a.pseudonymKey.equals(b.pseudonymKey)).toBe(true);
    expect(a.checkpointKey.kid).toBe(b.checkpointKey.kid);
    expect(fs.readdirSync(dir).some((f) => /^private.*\.json$/.test(f))).toBe(false);
  });
});
