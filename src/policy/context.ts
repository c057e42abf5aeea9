import { relationship, type Purpose } from '../purposes.js';
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
 * - `overdracht-kp4`, `overdracht-kp3`: the open handover to `org` that the purpose's relationship rests on;
 * - `begeleiding-kp4`: when the relationship holds (client KP4 in `org`), the latest KP3→KP4 handover to `org` that
 *   was not rejected (the one that brought the client to the coach);
 * - any other purpose: none.
 */
export function groundingOverdracht(purpose: Purpose, org: string, record: SuiteRecord, today: string): DecisionContext['overdracht'] {
  const rel = relationship(purpose, { org }, record, today);
  if (!rel.holds) return null;
  const overdrachten = record.overdrachten ?? [];
  let found: Overdracht | undefined;
  if (rel.basis.startsWith('overdrachten:')) {
    const id = rel.basis.slice('overdrachten:'.length);
    found = overdrachten.find((o) => o.id === id);
  } else if (purpose === 'begeleiding-kp4') {
    found = overdrachten
      .filter((o) => o.richting === 'KP3-KP4' && o.naarOrganisatie === org && o.status !== 'afgewezen')
      .reduce<Overdracht | undefined>((latest, o) => (!latest || o.datum > latest.datum ? o : latest), undefined);
  }
  if (!found) return null;
  const { id, richting, status, clientGeinformeerd, bezwaarTegenDelen } = found;
  return { id, richting, status, clientGeinformeerd, bezwaarTegenDelen };
}
