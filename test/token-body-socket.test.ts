import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTokens } from './token-support.js';

/**
 * POST /oauth/token on a real socket, where a body framed by its Content-Length is read straight from Node's request
 * (src/http/body-limit.ts `requestText`) and a chunked one through hono's web Request: both must answer alike, at and
 * past the limit of 64 KiB, and a body that never arrives whole must issue nothing.
 */
const LIMIT = 64 * 1024;

let t: Awaited<ReturnType<typeof setupTokens>>;
let port: number;
let close: () => void;

beforeAll(async () => {
  t = await setupTokens();
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  port = (server.address() as AddressInfo).port;
  close = () => {
    server.close();
    server.closeAllConnections();
  };
});
afterAll(() => close());

type Framing = 'content-length' | 'chunked';

/** Sends `parts` (written one after another, `gapMs` apart) as one POST /oauth/token body. */
function post(parts: Buffer[], framing: Framing, gapMs = 5): Promise<{ status: number; body: Record<string, unknown> }> {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(framing === 'content-length' ? { 'content-length': String(length) } : { 'transfer-encoding': 'chunked' }),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    const write = (i: number) => {
      if (i === parts.length) return void req.end();
      req.write(parts[i]);
      setTimeout(() => write(i + 1), gapMs);
    };
    write(0);
  });
}

/** A fresh, valid exchange request as a form body (each needs its own client assertion: its `jti` is single-use). */
async function form(extra: Array<[string, string]> = []): Promise<string> {
  const fields = t.exchangeForm(await t.login(), { purpose: 'overdracht-kp4', client: 'WZR-100001' });
  return new URLSearchParams([...extra, ...Object.entries(fields), ...Object.entries(await t.clientAuth())]).toString();
}

/** `body` padded with an ignored parameter to exactly `bytes` bytes. */
function padded(body: string, bytes: number): Buffer {
  const pad = '&pad=';
  return Buffer.from(body + pad + 'a'.repeat(bytes - Buffer.byteLength(body) - pad.length));
}

const issued = () => t.auditEntries().filter((e) => e.action === 'token.issued').length;

describe('the token endpoint reads its body on the socket', () => {
  it.each<Framing>(['content-length', 'chunked'])('issues a token for a body framed by %s, and the token reads a record', async (framing) => {
    const res = await post([Buffer.from(await form())], framing);
    expect(res.status).toBe(200);
    const token = res.body.access_token as string;
    const read = await t.app.request('/v1/clients/WZR-100001', { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
  });

  it.each<Framing>(['content-length', 'chunked'])(
    'takes a body of exactly 64 KiB framed by %s, and refuses one byte more with 413 and a line',
    async (framing) => {
      const before = issued();
      const atLimit = await post([padded(await form(), LIMIT)], framing);
      expect(atLimit.status).toBe(200);
      expect(issued()).toBe(before + 1);

      const over = await post([padded(await form(), LIMIT + 1)], framing);
      expect(over.status).toBe(413);
      expect(over.body).toMatchObject({ error: 'invalid_request' });
      expect(t.lastAudit()).toMatchObject({ action: 'request.refused', reason: 'BODY_TOO_LARGE', httpStatus: 413 });
      expect(issued()).toBe(before + 1);
    },
  );

  it('decodes a character split across two packets, and drops a leading BOM as hono does', async () => {
    // Raw UTF-8 in the form (URLSearchParams would percent-encode it), first, so that a lost second part is a broken form.
    const body = Buffer.from(`note=één&${await form()}`);
    const at = body.indexOf(Buffer.from('é')) + 1; // inside the two bytes of the first é
    // Far enough apart that the server has begun reading before the second part arrives: two chunks, not one.
    const split = await post([body.subarray(0, at), body.subarray(at)], 'content-length', 200);
    expect(split.status).toBe(200);

    const bom = Buffer.from('\uFEFF');
    for (const framing of ['content-length', 'chunked'] as const) {
      const res = await post([Buffer.concat([bom, Buffer.from(await form())])], framing);
      expect(res.status, framing).toBe(200);
    }
  });

  it('refuses a repeated parameter read from the socket as it does in process', async () => {
    const res = await post([Buffer.from(`${await form()}&grant_type=x`)], 'content-length');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(t.lastAudit()).toMatchObject({ action: 'token.refused', reason: 'PARAMETER_REPEATED' });
  });

  it('issues nothing for a body that never arrives whole, and goes on serving', async () => {
    const before = t.auditEntries().length;
    const body = Buffer.from(await form());
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(body.subarray(0, body.length - 10));
      setTimeout(() => req.destroy(), 50);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(
      t
        .auditEntries()
        .slice(before)
        .filter((e) => e.action === 'token.issued'),
    ).toEqual([]);
    const next = await post([Buffer.from(await form())], 'content-length');
    expect(next.status).toBe(200);
  });
});
