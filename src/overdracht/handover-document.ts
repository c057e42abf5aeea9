import { z } from 'zod';
import { releasedRecordSchema, releasedSchema, type RecordView } from '../policy/release.js';
import type { Purpose } from '../purposes.js';
import { SUBJECTS, type Overdracht } from '../records/suite-record.js';

/** A record as released: the same sections and field names as the Suite export, each possibly partial or absent. */
export type ReleasedRecord = RecordView;

/** A field held back, with the reason the policy gives. */
export interface Withheld {
  field: string;
  reason: string;
}

/** The handover document (overdrachtsformulier) a receiving coach reads: only released data, plus signals. */
export interface HandoverDocument {
  clientRef: string;
  purpose: Purpose;
  richting: Overdracht['richting'];
  /** The handover that grounds this purpose, as far as released. */
  overdracht: NonNullable<RecordView['overdrachten']>[number] | undefined;
  record: ReleasedRecord;
  /** Prompts for the coach derived from released data, in Dutch (the coach reads them). */
  signalen: string[];
  withheld: Withheld[];
}

/** `HandoverDocument` as it leaves (the API description, and the tests that check every answer against it). */
export const handoverDocumentSchema = z.strictObject({
  clientRef: z.string(),
  purpose: z.enum(['overdracht-kp4', 'overdracht-kp3']),
  richting: z.enum(['KP3-KP4', 'KP4-KP3']),
  overdracht: releasedSchema(SUBJECTS.Overdracht.schema, 'overdrachten[]')
    .optional()
    .meta({ description: 'The handover that grounds this purpose, as far as released; absent when none is' }),
  record: releasedRecordSchema,
  signalen: z.array(z.string()).meta({ description: 'Prompts for the coach derived from released data, in Dutch' }),
  withheld: z.array(z.strictObject({ field: z.string(), reason: z.string() })),
});

export const SIGNAAL_BOETE_OVERWOGEN = 'Er wordt een boete overwogen. Neem contact op met de inkomensconsulent.';
export const SIGNAAL_DRIEGESPREK = 'De cliënt wil graag een driegesprek met de werkcoach en de nieuwe coach.';

/**
 * Builds the handover document for `overdracht-kp4` (richting KP3-KP4) or `overdracht-kp3` (KP4-KP3) from what the
 * decision released. It adds nothing the view does not hold: signals only restate released facts. `overdrachtId`
 * names the handover that grounds the purpose (policy/context.ts); given, the document shows that one or none.
 */
export function handoverDocument(input: {
  clientRef: string;
  purpose: 'overdracht-kp4' | 'overdracht-kp3';
  record: ReleasedRecord;
  withheld: Withheld[];
  overdrachtId?: string | undefined;
}): HandoverDocument {
  const richting = input.purpose === 'overdracht-kp4' ? 'KP3-KP4' : 'KP4-KP3';
  const overdrachten = (input.record.overdrachten ?? []).filter((o) => o.richting === undefined || o.richting === richting);
  const overdracht =
    input.overdrachtId !== undefined
      ? overdrachten.find((o) => o.id === input.overdrachtId)
      : (overdrachten.find((o) => o.status === 'aangevraagd') ?? overdrachten[0]);
  const signalen: string[] = [];
  if ((input.record.boetes ?? []).some((b) => b.status === 'overwogen')) signalen.push(SIGNAAL_BOETE_OVERWOGEN);
  if (overdracht?.driegesprekGewenst === true) signalen.push(SIGNAAL_DRIEGESPREK);
  return { clientRef: input.clientRef, purpose: input.purpose, richting, overdracht, record: input.record, signalen, withheld: input.withheld };
}
