import type { Purpose } from '../purposes.js';

/**
 * The fields a list item can show (lists.ts), as paths of the released view with list indices written `[]`: the
 * client's key and name, and the handover (the inbox) or the klantprofiel (the KP4 clients). A list line's `released`
 * names only these, so replaying it (policy/impact.ts) compares only these; nothing else of a client is ever listed.
 */

/** The parts of `naam`, in `persoon`. */
export const NAAM_FIELDS = ['voornamen', 'achternaam'] as const;
/** What the inbox shows of the handover that grounds the purpose. */
export const INBOX_OVERDRACHT_FIELDS = ['id', 'datum', 'status', 'onderbouwing', 'driegesprekGewenst'] as const;
/** What the KP4 list shows of the current klantprofiel. */
export const KP4_KLANTPROFIEL_FIELDS = ['vanaf'] as const;

const common = ['clientRef', ...NAAM_FIELDS.map((f) => `persoon.${f}`)];
const INBOX = new Set([...common, ...INBOX_OVERDRACHT_FIELDS.map((f) => `overdrachten[].${f}`)]);
const KP4 = new Set([...common, ...KP4_KLANTPROFIEL_FIELDS.map((f) => `klantprofielen[].${f}`)]);

/** The fields (indices as `[]`) a list line of `purpose` can name: the inbox's or the KP4 list's. */
export function listFieldsOf(purpose: Purpose): ReadonlySet<string> {
  return purpose === 'begeleiding-kp4' ? KP4 : INBOX;
}
