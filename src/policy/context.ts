import { relationship, type Purpose, type Relationship } from '../purposes.js';
import type { Overdracht, SuiteRecord } from '../records/suite-record.js';

/**
 * What a rule's conditions may know beyond the subject instance itself, as `context.*` (fields.ts). A belastbaarheids-
 * onderzoek does not carry the handover that says whether the client was informed and did not object, so decide
 * adds the handover that grounds the purpose to every instance it evaluates.
 */
export interface DecisionContext {
  overdracht: Pick<Overdracht, 'id' | 'richting' | 'status' | 'clientGeinformeerd' | 'bezwaarTegenDelen'> | null;
}

/**
 * The handover that grounds `purpose` for a requester of `org` on `today`, or null:
 * - `overdracht-kp4`, `overdracht-kp3`: the open handover to `org` that the purpose's relationship rests on (the
 *   newest by datum, then id);
 * - `begeleiding-kp4`: when the relationship holds (client KP4 in `org`), the newest KP3→KP4 handover to `org` that
 *   was not rejected (the one that brought the client to the coach);
 * - any other purpose: none.
 * `rel` is the purpose's relationship on `today`, when the caller has it already.
 * An objection (art. 21 AVG) recorded on any of those handovers to `org` stands, whichever is newest: the context then
 * says `bezwaarTegenDelen: true`, so the findings a policy conditions on it are withheld.
 */
export function groundingOverdracht(
  purpose: Purpose,
  org: string,
  record: SuiteRecord,
  today: string,
  rel: Relationship = relationship(purpose, { org }, record, today),
): DecisionContext['overdracht'] {
  if (!rel.holds) return null;
  const overdrachten = record.overdrachten ?? [];
  let found: Overdracht | undefined;
  let candidates: Overdracht[] = [];
  if (rel.basis.startsWith('overdrachten:')) {
    const id = rel.basis.slice('overdrachten:'.length);
    found = overdrachten.find((o) => o.id === id);
    // The open ones: each handover on which, alone, the relationship would hold (one rule, in relationship()).
    candidates = overdrachten.filter((o) => relationship(purpose, { org }, { ...record, overdrachten: [o] }, today).holds);
  } else if (purpose === 'begeleiding-kp4') {
    candidates = overdrachten.filter((o) => o.richting === 'KP3-KP4' && o.naarOrganisatie === org && o.status !== 'afgewezen');
    found = candidates.reduce<Overdracht | undefined>((n, o) => (!n || o.datum > n.datum || (o.datum === n.datum && o.id > n.id) ? o : n), undefined);
  }
  if (!found) return null;
  const { id, richting, status, clientGeinformeerd } = found;
  const bezwaarTegenDelen = found.bezwaarTegenDelen || candidates.some((o) => o.bezwaarTegenDelen);
  return { id, richting, status, clientGeinformeerd, bezwaarTegenDelen };
}
