import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Pseudonyms } from '../src/audit/pseudonyms.js';

describe('Pseudonyms', () => {
  it('gives every BSN its HMAC-SHA256 under the key, the same whether kept or computed again', () => {
    const key = randomBytes(32);
    const pseudonyms = new Pseudonyms(key);
    const hmac = (bsn: string) => createHmac('sha256', key).update(bsn).digest('hex');
    const bsns = Array.from({ length: 12_000 }, (_, i) => String(100_000_000 + i * 7));
    for (const bsn of bsns) expect(pseudonyms.of(bsn)).toBe(hmac(bsn));
    // Read again: the oldest were let go and are computed anew, the newest are kept; all are right.
    for (const bsn of [...bsns].reverse()) expect(pseudonyms.of(bsn)).toBe(hmac(bsn));
    expect(new Pseudonyms(randomBytes(32)).of(bsns[0]!)).not.toBe(pseudonyms.of(bsns[0]!));
  });
});
