import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, freePort, memoryMiB, startServer, type Server } from '../bench/procs.js';
import { tempDir } from './support.js';

const MiB = 1024 * 1024;
const BODY = 200 * MiB;

/**
 * Streams a `BODY`-byte form body to POST /oauth/token from one reused 64 KiB chunk (never held whole), declared with
 * Content-Length or chunked, until the server answers; resolves with the status, the answer and the bytes sent by then.
 */
function streamBody(origin: string, framing: 'content-length' | 'chunked'): Promise<{ status: number; body: string; sentBeforeAnswer: number }> {
  const { hostname, port } = new URL(origin);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request({
      hostname,
      port,
      method: 'POST',
      path: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(framing === 'content-length' ? { 'content-length': String(BODY) } : { 'transfer-encoding': 'chunked' }),
      },
    });
    req.on('response', (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, body, sentBeforeAnswer });
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const write = () => {
      while (!answered && sent < BODY) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      if (!answered) req.end();
    };
    write();
  });
}

describe('body limits on a real listening server (a child process)', () => {
  let server: Server;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const port = await freePort();
    server = await startServer({
      name: 'gateway',
      args: [BIN, 'serve'],
      env: { ...process.env, DOELPOORT_DATA_DIR: dataDir, DOELPOORT_DEMO: '1', PORT: String(port) },
      port,
      cores: null,
      readyPath: '/health',
      timeoutMs: 60_000,
    });
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('refuses two 200 MB bodies (Content-Length and chunked, at once) with 413 while its peak RSS grows by less than 100 MB', async () => {
    // Measured against the server's own peak before: buffering either body would add 200 MB to it.
    const before = memoryMiB(server.pid);
    const results = await Promise.all([streamBody(server.origin, 'content-length'), streamBody(server.origin, 'chunked')]);
    for (const r of results) {
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'invalid_request' });
      expect(r.sentBeforeAnswer).toBeLessThan(BODY / 4); // answered long before the body was through
    }
    const memory = memoryMiB(server.pid);
    if (memory === null || before === null) return; // not Linux: no /proc to read the peak from
    expect(memory.peak - before.peak).toBeLessThan(100);

    // Both refusals are on the audit trail.
    const db = new Database(path.join(dataDir, 'doelpoort.db'), { readonly: true });
    const lines = db.prepare("SELECT count(*) FROM audit_log WHERE action = 'request.refused'").pluck().get();
    db.close();
    expect(lines).toBe(2);
    // And the server still answers.
    expect((await fetch(`${server.origin}/health`)).status).toBe(200);
  }, 120_000);
});
