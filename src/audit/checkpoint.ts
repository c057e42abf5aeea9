import { sign, verify, type KeyObject } from 'node:crypto';
import type { CheckpointKey } from './keys.js';

/**
 * Signed checkpoints: { size, head, at } of the chain as a compact JWS (RFC 7515, alg EdDSA, Ed25519). Signing uses
 * node:crypto so that it is synchronous and can happen inside the append's transaction; the result is an ordinary
 * JWS that jose's `compactVerify` accepts. A copy kept outside the server makes a rewritten or truncated chain
 * detectable even by someone who can rewrite the whole database file.
 */

/** The JWS `typ` of a checkpoint. */
export const CHECKPOINT_TYP = 'doelpoort-checkpoint+jws';

/** What a checkpoint says: the chain had `size` lines with chain hash `head` (hex) at `at` (epoch ms). */
export interface CheckpointClaim {
  size: number;
  head: string;
  at: number;
}

/** A checkpoint as stored and printed: the claim and its compact JWS. */
export interface Checkpoint extends CheckpointClaim {
  signature: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Signs a checkpoint claim; synchronous. */
export function signCheckpoint(key: CheckpointKey, claim: CheckpointClaim): string {
  const header = b64(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: CHECKPOINT_TYP }));
  const payload = b64(JSON.stringify({ size: claim.size, head: claim.head, at: claim.at }));
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key.privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

/**
 * The claim of a checkpoint JWS if its signature verifies under `publicKey` and its header and payload have the
 * expected shape; otherwise null. Never throws on untrusted input.
 */
export function openCheckpoint(jws: string, publicKey: KeyObject): CheckpointClaim | null {
  const parts = jws.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header.alg !== 'EdDSA' || header.typ !== CHECKPOINT_TYP || header.crit !== undefined) return null;
    if (!verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))) return null;
    return parseClaim(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  } catch {
    return null;
  }
}

/** The claim inside a JWS payload without checking the signature: for display only. */
export function peekCheckpoint(jws: string): CheckpointClaim | null {
  try {
    return parseClaim(JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')));
  } catch {
    return null;
  }
}

function parseClaim(value: unknown): CheckpointClaim | null {
  if (value === null || typeof value !== 'object') return null;
  const { size, head, at } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(size) || (size as number) < 0) return null;
  if (typeof head !== 'string' || !/^[0-9a-f]{64}$/.test(head)) return null;
  if (!Number.isSafeInteger(at)) return null;
  return { size: size as number, head, at: at as number };
}
