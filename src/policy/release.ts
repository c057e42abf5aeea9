import type { SuiteRecord } from '../records/suite-record.js';
import { MEDISCHE_KERN } from './guardrails.js';

type DeepPartial<T> = T extends ReadonlyArray<infer U> ? Array<DeepPartial<U>> : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A record as a decision may release it: the Suite export's names, only released sections and fields present. */
export type RecordView = DeepPartial<SuiteRecord>;

/**
 * The final release step, pure and independent of any policy: a copy of `view` without any guardrail field (the B+
 * medical core, fine reasons, fraud investigations, the justice domain), whatever the decision said. A leefgebied
 * whose `domein` is not in the view cannot be shown not to be justitie and is dropped too.
 */
export function release(view: RecordView): RecordView {
  const out = structuredClone(view);
  delete out.fraudeonderzoeken;
  if (out.belastbaarheidsonderzoeken) {
    for (const onderzoek of out.belastbaarheidsonderzoeken) for (const field of MEDISCHE_KERN) delete onderzoek[field];
  }
  if (out.boetes) for (const boete of out.boetes) delete boete.reden;
  if (out.leefgebieden) {
    out.leefgebieden = out.leefgebieden.filter((l) => l.domein !== undefined && l.domein !== 'justitie');
    if (out.leefgebieden.length === 0) delete out.leefgebieden;
  }
  return out;
}
