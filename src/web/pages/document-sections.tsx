import { raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { DECIDED_BY } from '../../clients/record-json.js';
import type { HandoverDocument } from '../../overdracht/handover-document.js';
import type { Decision } from '../../policy/decide.js';
import {
  BelastbaarheidSection,
  ContactmomentenSection,
  KlantprofielenSection,
  LeefgebiedenSection,
  OntheffingenSection,
  OverdrachtSection,
  PersoonSection,
  Signals,
  UitkeringSection,
  WithheldSection,
} from './sections.js';

/** A handover document, and the decision it was made from (set by readHandoverDocument; never serialised). */
export type DecidedDocument = HandoverDocument & { readonly [DECIDED_BY]?: Decision };

/**
 * The sections of a handover document as HTML, rendered once per cached decision and handover: the same reasoning as
 * the API's cached JSON (src/clients/record-json.ts). DecisionCache hands out one frozen decision per policy set,
 * record version, role, organisation, purpose, day and emergency access, and the sections are a function of it and
 * of the handover the document is about, nothing else: not the reader, the moment, the decision id or the page's
 * nonce, which the page around them renders per request. Weakly keyed, so the HTML lives no longer than the decision
 * and never serves another decision or record version. A decision that is not frozen could change, and is rendered
 * afresh. Rendering them took about a fifth of the page's CPU (bench/README.md, issue 15).
 */
const rendered = new WeakMap<Decision, Map<HandoverDocument['overdracht'], HtmlEscapedString>>();

function sectionsOf(doc: HandoverDocument) {
  const view = doc.record;
  return (
    <>
      <Signals signalen={doc.signalen} />
      <OverdrachtSection overdracht={doc.overdracht} />
      <PersoonSection view={view} />
      <UitkeringSection view={view} />
      <KlantprofielenSection view={view} />
      <OntheffingenSection view={view} />
      <BelastbaarheidSection view={view} />
      <LeefgebiedenSection view={view} />
      <ContactmomentenSection view={view} />
      <WithheldSection withheld={doc.withheld} view={view} />
    </>
  );
}

/** Every section of the document (signals, the handover, the released data, what was held back), in reading order. */
export function DocumentSections({ doc }: { doc: DecidedDocument }) {
  const decision = doc[DECIDED_BY];
  if (decision === undefined || !Object.isFrozen(decision)) return sectionsOf(doc);
  const byHandover = rendered.get(decision) ?? new Map<HandoverDocument['overdracht'], HtmlEscapedString>();
  const hit = byHandover.get(doc.overdracht);
  if (hit !== undefined) return hit;
  const html = sectionsOf(doc).toString();
  // Every section is synchronous; should one ever not be, its HTML is a promise, and the page renders it as it is.
  if (typeof html !== 'string') return sectionsOf(doc);
  const escaped = raw(html);
  byHandover.set(doc.overdracht, escaped);
  rendered.set(decision, byHandover);
  return escaped;
}
