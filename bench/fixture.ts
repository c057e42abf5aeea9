/**
 * The benchmark's fixture, shared by `npm run bench` (run.ts) and the profiler (profile.ts): the clients picked from
 * a generated store, their purpose-bound tokens minted through the real exchange, and the checks that the gateway
 * answers them. Tokens are kept in memory only and never printed.
 */
import Database from 'better-sqlite3';
import type { SuiteRecord } from '../src/records/suite-record.js';
import type { Server } from './procs.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

export interface Pair {
  clientRef: string;
  org: string;
  /** The purpose-bound access token; kept in memory only. */
  token?: string;
}

/**
 * Clients with a KP3→KP4 handover `aangevraagd` to a municipality, whose client was informed and did not object:
 * the ordinary `overdracht-kp4` case, where the policy releases the handover fields. Ordered by clientRef, so every
 * run on the same seed picks the same clients.
 */
export function pickClients(dbFile: string, count: number): Pair[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[], { clientRef: string; id: string; org: string; record: string }>(
        `SELECT o.client_ref AS clientRef, o.id AS id, o.naar_organisatie AS org, c.record AS record
         FROM overdrachten o JOIN clients c ON c.client_ref = o.client_ref
         WHERE o.richting = 'KP3-KP4' AND o.status = 'aangevraagd' AND o.naar_organisatie LIKE 'GM%'
         ORDER BY o.client_ref`,
      )
      .all();
    const pairs: Pair[] = [];
    for (const row of rows) {
      const record = JSON.parse(row.record) as SuiteRecord;
      const handover = record.overdrachten?.find((o) => o.id === row.id);
      if (handover?.clientGeinformeerd && !handover.bezwaarTegenDelen) pairs.push({ clientRef: row.clientRef, org: row.org });
      if (pairs.length === count) break;
    }
    return pairs;
  } finally {
    db.close();
  }
}

export function exchangeBody(login: string, clientRef: string): string {
  return new URLSearchParams({
    // Demo mode's public client: the gateway under measurement runs in demo mode.
    client_id: 'doelpoort-demo',
    grant_type: GRANT,
    subject_token: login,
    subject_token_type: JWT_TYPE,
    authorization_details: JSON.stringify([{ type: 'doelbinding', purpose: 'overdracht-kp4', client: clientRef }]),
  }).toString();
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** One exchange per pair; returns null when all succeeded, or what the gateway answered instead. */
export async function mintTokens(gateway: Server, pairs: Pair[], logins: Map<string, string>): Promise<string | null> {
  const statuses: Record<string, number> = {};
  for (const pair of pairs) {
    let status: number;
    try {
      const res = await fetch(`${gateway.origin}/oauth/token`, {
        method: 'POST',
        headers: FORM,
        body: exchangeBody(logins.get(pair.org)!, pair.clientRef),
      });
      status = res.status;
      if (status === 200) {
        const body = (await res.json()) as { access_token?: unknown };
        if (typeof body.access_token === 'string') pair.token = body.access_token;
        else status = -1;
      } else {
        await res.body?.cancel();
      }
    } catch {
      status = 0;
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
    // A route that is not there answers the same for every pair; one look is enough.
    if (status === 404 || status === 405) break;
  }
  const ok = pairs.filter((p) => p.token).length;
  if (ok === pairs.length) return null;
  const named = Object.entries(statuses)
    .map(([s, n]) => `${s === '-1' ? '200 without access_token' : s === '0' ? 'no response' : s} ×${n}`)
    .join(', ');
  return `POST /oauth/token answered ${named}`;
}

/** Checks that every minted token reads its client with 200; returns null, or what the gateway answered. */
export async function probeClientRoute(gateway: Server, pairs: Pair[]): Promise<string | null> {
  if (pairs.length === 0 || !pairs[0]!.token) {
    // Without tokens only the route's existence can be told: 401 means it is there and wants a token.
    const ref = pairs[0]?.clientRef ?? 'WZR-000000';
    const res = await fetch(`${gateway.origin}/v1/clients/${ref}`, { headers: { authorization: 'Bearer not-a-token' } });
    await res.body?.cancel();
    return `GET /v1/clients/{ref} answered ${res.status} to a request without a valid token${res.status === 404 ? ' (route not present yet)' : ''}`;
  }
  const statuses: Record<string, number> = {};
  for (const pair of pairs) {
    const res = await fetch(`${gateway.origin}/v1/clients/${pair.clientRef}`, { headers: { authorization: `Bearer ${pair.token}` } });
    await res.body?.cancel();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  if (Object.keys(statuses).every((s) => s === '200')) return null;
  return `GET /v1/clients/{ref} with purpose-bound tokens answered ${JSON.stringify(statuses)}`;
}

/** Checks that each pair's handover page answers 200 to its municipality's web session; null, or what it answered. */
export async function probeWebPage(gateway: Server, pairs: Pair[], sessions: Map<string, string>): Promise<string | null> {
  const statuses: Record<string, number> = {};
  for (const pair of pairs) {
    const res = await fetch(`${gateway.origin}/overdrachten/${pair.clientRef}`, { headers: { cookie: sessions.get(pair.org)! }, redirect: 'manual' });
    await res.body?.cancel();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  if (Object.keys(statuses).every((s) => s === '200')) return null;
  return `GET /overdrachten/{ref} with web sessions answered ${JSON.stringify(statuses)}`;
}
