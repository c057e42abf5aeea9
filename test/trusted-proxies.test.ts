/**
 * The client address behind a reverse proxy (DOELPOORT_TRUSTED_PROXIES): believed from X-Forwarded-For only when the
 * socket is a trusted proxy, and then only the right-most hop no trusted proxy wrote; through the real server.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { DoelpoortError } from '../src/errors.js';
import { clientAddress } from '../src/http/context.js';
import { setupApp } from './support.js';

const proxies = (text: string) => loadConfig({ DOELPOORT_TRUSTED_PROXIES: text }).trustedProxies;

describe('clientAddress', () => {
  const trusted = proxies('10.0.0.0/8, 192.0.2.7, fd00::/8');

  it('keeps the socket address without a trusted proxy list, or from a socket not in it', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', undefined)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', '198.51.100.1', trusted)).toBe('203.0.113.9');
  });

  it('takes the right-most hop a trusted proxy did not write', () => {
    expect(clientAddress('10.1.2.3', '198.51.100.1', trusted)).toBe('198.51.100.1');
    // A client's own X-Forwarded-For is the left part: never believed.
    expect(clientAddress('10.1.2.3', '1.2.3.4, 198.51.100.1', trusted)).toBe('198.51.100.1');
    expect(clientAddress('10.1.2.3', '198.51.100.1, 192.0.2.7', trusted)).toBe('198.51.100.1');
    expect(clientAddress('::ffff:10.1.2.3', '2001:db8::5', trusted)).toBe('2001:db8::5');
    expect(clientAddress('fd00::1', '198.51.100.1', trusted)).toBe('198.51.100.1');
  });

  it('keeps the proxy address for a missing, malformed or all-proxy header', () => {
    expect(clientAddress('10.1.2.3', undefined, trusted)).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', 'not-an-address', trusted)).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', '198.51.100.1, bogus', trusted)).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', '10.9.9.9, 192.0.2.7', trusted)).toBe('10.1.2.3');
  });
});

describe('DOELPOORT_TRUSTED_PROXIES', () => {
  it.each(['10.0.0.0/33', 'proxy.example', '10.0.0.1/8/9', '::1/129', '10.0.0.1,'])('refuses %j naming the variable', (text) => {
    let error: unknown;
    try {
      proxies(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DoelpoortError);
    expect((error as DoelpoortError).detail).toMatch(/^DOELPOORT_TRUSTED_PROXIES: /);
  });

  it('names the forwarded client in the audit line and the rate limit, through the real server', async () => {
    const ctx = setupApp({ DOELPOORT_TRUSTED_PROXIES: '127.0.0.1', DOELPOORT_RATE_LIMIT: '2' });
    const server = serve({ fetch: ctx.app.fetch, port: 0, hostname: '127.0.0.1' }) as import('node:http').Server;
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const call = (client: string) => fetch(`${base}/v1/clients/WZR-100001`, { headers: { 'x-forwarded-for': client } });
      expect((await call('198.51.100.1')).status).toBe(401);
      expect((await call('198.51.100.1')).status).toBe(401);
      // That client is now refused, another behind the same proxy is not.
      expect((await call('198.51.100.1')).status).toBe(429);
      expect((await call('198.51.100.2')).status).toBe(401);
      const origins = (ctx.db.$client.prepare('SELECT entry FROM audit_log ORDER BY seq').all() as Array<{ entry: string }>).map(
        (r) => (JSON.parse(r.entry) as { entry: { origin?: string } }).entry.origin,
      );
      expect(origins).toContain('198.51.100.1');
      expect(origins).toContain('198.51.100.2');
      expect(origins).not.toContain('127.0.0.1');
    } finally {
      server.close();
    }
  });

  it('is unset by default: the socket address is the client', () => {
    expect(loadConfig({}).trustedProxies).toBeUndefined();
  });
});
