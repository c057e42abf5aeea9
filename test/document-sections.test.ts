import { describe, expect, it } from 'vitest';
import { DECIDED_BY } from '../src/clients/record-json.js';
import { deepFreeze } from '../src/freeze.js';
import { handoverDocument } from '../src/overdracht/handover-document.js';
import type { Decision } from '../src/policy/decide.js';
import { type DecidedDocument, DocumentSections } from '../src/web/pages/document-sections.js';

/**
 * The handover document's sections are kept per decision object (src/web/pages/document-sections.tsx): two decisions
 * on the same released view, with the same handover, must never share their HTML, and a decision that is not frozen
 * is rendered every time.
 */
const view = deepFreeze({
  clientRef: 'WZR-900001',
  persoon: { voornamen: 'Lotte', achternaam: 'Visser' },
  overdrachten: [{ id: 'OVD-1', richting: 'KP3-KP4', status: 'aangevraagd', datum: '2026-11-20' }],
}) as never;

function decided(decision: object, reason: string): DecidedDocument {
  const doc = handoverDocument({ clientRef: 'WZR-900001', purpose: 'overdracht-kp4', record: view, withheld: [{ field: 'persoon.telefoon', reason }] });
  return Object.defineProperty(doc, DECIDED_BY, { value: decision as Decision });
}

const html = (doc: DecidedDocument) => String(DocumentSections({ doc }));

describe('the sections kept per decision', () => {
  it('renders each decision its own sections, the same handover object notwithstanding, and serves them again', () => {
    const a = decided(Object.freeze({}), 'Reden-A');
    const b = decided(Object.freeze({}), 'Reden-B');
    expect(a.overdracht).toBe(b.overdracht);
    const [first, second] = [html(a), html(b)];
    expect(first).toContain('Reden-A');
    expect(first).toContain('Lotte');
    expect(second).toContain('Reden-B');
    expect(second).not.toContain('Reden-A');
    expect(html(a)).toBe(first);
  });

  it('keeps nothing for a decision that is not frozen, nor for a document without one', () => {
    const open = {};
    expect(html(decided(open, 'Eerst'))).toContain('Eerst');
    expect(html(decided(open, 'Daarna'))).toContain('Daarna');
    const bare = handoverDocument({
      clientRef: 'WZR-900001',
      purpose: 'overdracht-kp4',
      record: view,
      withheld: [{ field: 'persoon.telefoon', reason: 'Los' }],
    });
    expect(html(bare)).toContain('Los');
  });
});
