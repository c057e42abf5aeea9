import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessToken, send } from './security-matrix.js';
import { setupTokens } from './token-support.js';

const coach = { user: { sub: 'coach-jan', role: 'participatiecoach', org: 'GM1960' }, purpose: 'overdracht-kp4', client: 'WZR-100001' } as const;

/** Every line the process writes to stderr while `fn` runs, as written (not through vitest's console). */
async function stderrOf(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l !== ''),
    );
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

const failures = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'audit write failed');

describe('an audit write failure is logged for operators', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a full disk: the 503 comes with one JSON line on stderr naming AUDIT_WRITE_FAILED and SQLITE_FULL, and no value', async () => {
    const ctx = await setupTokens();
    const token = await accessToken(ctx, coach);
    // No room for another page: the next audit insert fails with SQLITE_FULL, as on a full disk.
    ctx.db.$client.pragma(`max_page_count = ${ctx.db.$client.pragma('page_count', { simple: true }) as number}`);
    const statuses: number[] = [];
    const lines = await stderrOf(async () => {
      for (let i = 0; i < 200 && !statuses.includes(503); i++) {
        const res = await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100001' }, token);
        statuses.push(res.status);
        await res.text();
      }
    });
    expect(statuses.at(-1)).toBe(503);
    const logged = failures(lines);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', code: 'AUDIT_WRITE_FAILED', sqliteCode: 'SQLITE_FULL', time: expect.any(String) });
    expect(Object.keys(logged[0]!).sort()).toEqual(['code', 'level', 'msg', 'sqliteCode', 'stage', 'time']);
    const text = lines.join('\n');
    for (const value of ['de Vries', '101010011', 'coach-jan', token.slice(0, 20)]) expect(text).not.toContain(value);
  });

  it('a refused insert (a trigger standing in for an I/O error): one line per failed request, with SQLite’s code', async () => {
    const ctx = await setupTokens();
    const token = await accessToken(ctx, coach);
    ctx.db.$client.exec(`CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const statuses: number[] = [];
    const lines = await stderrOf(async () => {
      for (let i = 0; i < 2; i++) {
        const res = await send(ctx, { method: 'GET', path: '/v1/clients/WZR-100001' }, token);
        statuses.push(res.status);
        expect(await res.json()).toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
      }
    });
    expect(statuses).toEqual([503, 503]);
    expect(failures(lines)).toEqual([
      expect.objectContaining({ code: 'AUDIT_WRITE_FAILED', stage: 'append', sqliteCode: 'SQLITE_CONSTRAINT_TRIGGER' }),
      expect.objectContaining({ code: 'AUDIT_WRITE_FAILED', stage: 'append', sqliteCode: 'SQLITE_CONSTRAINT_TRIGGER' }),
    ]);
    expect(lines.join('\n')).not.toContain('disk full'); // the driver's message is never passed on
  });
});
