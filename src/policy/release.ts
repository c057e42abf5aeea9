import { z } from 'zod';
import { suiteRecordSchema, type SuiteRecord } from '../records/suite-record.js';
import { MEDISCHE_KERN } from './guardrails.js';

type DeepPartial<T> = T extends ReadonlyArray<infer U> ? Array<DeepPartial<U>> : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A record as a decision may release it: the Suite export's names, only released sections and fields present. */
export type RecordView = DeepPartial<SuiteRecord>;

/** The fields `release` always removes, by their place in a record (`[]`: every item of a list). */
const NEVER_RELEASED = new Set<string>(['fraudeonderzoeken', ...MEDISCHE_KERN.map((f) => `belastbaarheidsonderzoeken[].${f}`), 'boetes[].reden']);

/**
 * The schema of what `release` can let out of a part of the Suite record at `path`: every field optional, the same
 * values, no unknown key, and none of the guardrail fields; a leefgebied keeps its `domein`, never justitie. It
 * describes answers (the API description, and the tests that check every answer against it); it parses nothing.
 */
export function releasedSchema(schema: z.ZodType, path: string): z.ZodType {
  if (schema instanceof z.ZodOptional) return releasedSchema(schema.unwrap() as z.ZodType, path);
  if (schema instanceof z.ZodNullable) return releasedSchema(schema.unwrap() as z.ZodType, path).nullable();
  if (schema instanceof z.ZodArray) return z.array(releasedSchema(schema.element as z.ZodType, `${path}[]`));
  if (!(schema instanceof z.ZodObject)) return schema;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (NEVER_RELEASED.has(at)) continue;
    // `release` drops a leefgebied without a domein, and every one of justitie.
    shape[key] = at === 'leefgebieden[].domein' ? (field as z.ZodEnum).exclude(['justitie']) : releasedSchema(field, at).optional();
  }
  return z.strictObject(shape);
}

/** A released record (`RecordView`) as it leaves. */
export const releasedRecordSchema = releasedSchema(suiteRecordSchema, '').meta({
  id: 'ReleasedRecord',
  description: 'Released sections and fields, named as in the Suite export; never the medical core, fine reasons, fraud investigations or the justice domain',
});

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
