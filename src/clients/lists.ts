import type { AuditEntry } from '../audit/entry.js';
import { subjectFacts } from '../audit/facts.js';
import type { Caller } from '../caller.js';
import { isoDate } from '../clock.js';
import { DoelpoortError } from '../errors.js';
import type { RecordView } from '../policy/release.js';
import { openHandovers, type HandoverPurpose, type Purpose, type Requester } from '../purposes.js';
import { CLIENT_REF_PATTERN, type Overdracht } from '../records/suite-record.js';
import type { Page } from '../records/store.js';
import type { Tx, UnitOfWork } from '../unit-of-work.js';
import { decideOn, permitLine, readLine, type ClientReading, type Permitted } from './decision.js';
import { INBOX_OVERDRACHT_FIELDS, KP4_KLANTPROFIEL_FIELDS, NAAM_FIELDS } from './list-fields.js';

/**
 * The lists people work through: the handover inbox (`overdracht-kp4`, `overdracht-kp3`) and the KP4 clients
 * (`begeleiding-kp4`), for a token without a client. Each listed client is decided on under the list's purpose as if
 * the requester were bound to it (the relationship re-checked, the policy deciding); an item shows a field only if
 * that decision released it, and a client of whom the policy releases nothing is not listed (its deny line is
 * written). One audit line per client, naming exactly the fields its item shows; a page that lists nobody is an
 * access too, and has its own line. No log, no data: the page is returned once its lines are committed.
 */

/** The most items a page may ask for. */
export const MAX_LIST_LIMIT = 100;

/** Which page: `cursor` is the previous page's `next` (opaque), `limit` 1..MAX_LIST_LIMIT. */
export interface ListPageRequest {
  cursor?: string | undefined;
  limit: number;
}

/** A page of a list, and the cursor of the next page (null on the last). */
export interface ListPage<T> {
  items: T[];
  next: string | null;
}

/** The handover that puts a client in the inbox, as far as the policy released it. */
export interface InboxOverdracht {
  id?: string;
  datum?: string;
  status?: Overdracht['status'];
  onderbouwing?: Overdracht['onderbouwing'];
  driegesprekGewenst?: boolean | null;
}

/** One client in the handover inbox: nothing else about the client than this. */
export interface InboxItem {
  clientRef: string;
  /** `voornamen achternaam`, of the parts released; absent when neither is. */
  naam?: string;
  /** Absent when the policy released none of its fields (or withheld its `id`, by which it is found in the view). */
  overdracht?: InboxOverdracht;
}

/** One KP4 client of the coach's municipality. */
export interface Kp4Item {
  clientRef: string;
  naam?: string;
  /** Since when the client is KP4 (the current klantprofiel's `vanaf`), when released. */
  klantprofiel?: { vanaf: string };
}

/** An item and the field paths (of the released view) it shows, and those of its fields the policy held back. */
interface Shown<T> {
  item: T;
  released: string[];
  withheld: string[];
}

/** What one list is: who may ask, where its clients come from, and what an item shows of a decision. */
interface ListSpec<T> {
  purposes: readonly Purpose[];
  /** The clientRefs of one page, or undefined when the cursor names no client of this list (any more). */
  page(tx: Tx, requester: Requester, today: string, page: ListPageRequest): Promise<Page<string> | undefined>;
  /** Whether the decision needs the grounding handover (the inbox shows it). */
  grounding: boolean;
  item(permitted: Permitted, today: string): Shown<T> | undefined;
}

/** The paths `candidates` of which the decision withheld the field (with a value: withheld lists only those). */
function heldBack(permitted: Permitted, candidates: readonly string[]): string[] {
  const wanted = new Set(candidates);
  return permitted.decision.withheld.map((w) => w.field).filter((f) => wanted.has(f));
}

/** The client's key and name as released; undefined when the key itself was withheld (nothing to list it by). */
function keyAndName(view: RecordView): Shown<{ clientRef: string; naam?: string }> | undefined {
  if (view.clientRef === undefined) return undefined;
  const released = ['clientRef'];
  const parts: string[] = [];
  for (const field of NAAM_FIELDS) {
    const value = view.persoon?.[field];
    if (value === undefined) continue;
    parts.push(value);
    released.push(`persoon.${field}`);
  }
  return { item: { clientRef: view.clientRef, ...(parts.length > 0 ? { naam: parts.join(' ') } : {}) }, released, withheld: [] };
}

const naamPaths = NAAM_FIELDS.map((f) => `persoon.${f}`);

function inboxItem(permitted: Permitted): Shown<InboxItem> | undefined {
  const view = permitted.decision.view;
  const key = keyAndName(view);
  if (!key) return undefined;
  const candidates = ['clientRef', ...naamPaths];
  const item: InboxItem = key.item;
  const released = key.released;
  const index = permitted.overdrachtId === undefined ? -1 : (view.overdrachten ?? []).findIndex((o) => o.id === permitted.overdrachtId);
  const shown = index === -1 ? undefined : view.overdrachten![index]!;
  if (shown) {
    const overdracht: Record<string, unknown> = {};
    for (const field of INBOX_OVERDRACHT_FIELDS) {
      const path = `overdrachten[${index}].${field}`;
      candidates.push(path);
      if (shown[field] === undefined) continue;
      overdracht[field] = shown[field];
      released.push(path);
    }
    item.overdracht = overdracht as InboxOverdracht;
  }
  return { item, released, withheld: heldBack(permitted, candidates) };
}

function kp4Item(permitted: Permitted, today: string): Shown<Kp4Item> | undefined {
  const { view } = permitted.decision;
  const key = keyAndName(view);
  if (!key) return undefined;
  const candidates = ['clientRef', ...naamPaths];
  const item: Kp4Item = key.item;
  const released = key.released;
  // The current klantprofiel (the first active on `today`, as relationship() reads it); a klantprofiel has no id, so
  // the view's is found by its released profiel and dates.
  const current = (permitted.record.klantprofielen ?? []).find((k) => k.vanaf <= today && (k.tot == null || k.tot >= today));
  const index = current
    ? (view.klantprofielen ?? []).findIndex(
        (k) => k.profiel === current.profiel && k.vanaf === current.vanaf && (k.tot === undefined || k.tot === (current.tot ?? null)),
      )
    : -1;
  if (index !== -1) {
    for (const field of KP4_KLANTPROFIEL_FIELDS) candidates.push(`klantprofielen[${index}].${field}`);
    item.klantprofiel = { vanaf: view.klantprofielen![index]!.vanaf! };
    released.push(`klantprofielen[${index}].vanaf`);
  }
  return { item, released, withheld: heldBack(permitted, candidates) };
}

/** The one way a list runs: check the token, read a page of clients, decide on each, one line each, then answer. */
async function list<T>(uow: UnitOfWork, reading: ClientReading, asking: Caller, request: ListPageRequest, spec: ListSpec<T>): Promise<ListPage<T>> {
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_LIST_LIMIT) {
    throw new TypeError(`list: limit must be an integer 1..${MAX_LIST_LIMIT}`);
  }
  const { requester, facts } = asking;
  const version = reading.policies.set.version;
  const base = readLine('list.read', facts, undefined, version);
  return uow.run(
    async (tx) => {
      if (!spec.purposes.includes(requester.purpose) || requester.client !== undefined) {
        throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'this list needs a token of its purpose without a client', [], { reason: 'NOT_A_LIST_TOKEN' });
      }
      const today = isoDate(reading.clock.now());
      const cursorOk = request.cursor === undefined || CLIENT_REF_PATTERN.test(request.cursor);
      const refs = cursorOk ? await spec.page(tx, requester, today, request) : undefined;
      if (!refs) {
        // A cursor of another list, or whose client has left this one since: the caller starts again.
        throw new DoelpoortError('REQUEST_INVALID', 'invalid query: cursor', [{ path: 'query.cursor', message: 'invalid value' }], {
          reason: 'CURSOR_INVALID',
        });
      }
      // The request's own line first, then one line per client in a span of its own under it (Logboek: a line per
      // span). A page that lists nobody is an access too: the requester learns that nobody is there.
      const empty = refs.items.length === 0;
      await tx.audit.append({ ...base, outcome: 'permit', reason: empty ? 'LIST_EMPTY' : 'PERMIT', httpStatus: 200, count: refs.items.length } as AuditEntry);
      const items: T[] = [];
      for (const ref of refs.items) {
        const record = await tx.records.get(ref);
        if (!record) continue;
        const line = readLine('list.read', subjectFacts(facts), ref, version);
        const outcome = decideOn(reading, requester, record, today, spec.grounding);
        const shown = outcome instanceof DoelpoortError ? undefined : spec.item(outcome, today);
        if (outcome instanceof DoelpoortError || !shown) {
          const refusal =
            outcome instanceof DoelpoortError
              ? outcome
              : new DoelpoortError('ACCESS_DENIED', 'the policy withholds the client’s key from this list', [], { reason: 'LIST_KEY_WITHHELD' });
          await tx.audit.refused(line, refusal);
          continue;
        }
        await tx.audit.append(permitLine(tx, line, outcome, shown));
        items.push(shown.item);
      }
      return { items, next: refs.next };
    },
    { deny: base },
  );
}

const INBOX: ListSpec<InboxItem> = {
  purposes: ['overdracht-kp4', 'overdracht-kp3'],
  page: async (tx, requester, today, { cursor, limit }) => {
    const open = openHandovers(requester.purpose as HandoverPurpose, requester.org, today);
    const page = await tx.records.inbox(open, { after: cursor, limit });
    return page && { items: page.items.map((r) => r.clientRef), next: page.next };
  },
  grounding: true,
  item: inboxItem,
};

const KP4: ListSpec<Kp4Item> = {
  purposes: ['begeleiding-kp4'],
  page: async (tx, requester, today, { cursor, limit }) => tx.records.kp4Clients(requester.org, today, { after: cursor, limit }),
  grounding: false,
  item: kp4Item,
};

/**
 * The handover inbox (`GET /v1/overdrachten`): for a participatiecoach's `overdracht-kp4` token without a client the
 * KP3→KP4 handovers to the coach's municipality that are `aangevraagd`, or `afgerond` less than 90 days ago; for a
 * werkcoach's `overdracht-kp3` token without a client the KP4→KP3 handovers to Werkzaak that are `aangevraagd` (the
 * handovers on which the purpose's relationship holds, so every listed client is one the requester could open).
 * One item per client, showing the newest such handover; newest first (datum, then id).
 */
export function readInbox(uow: UnitOfWork, reading: ClientReading, asking: Caller, page: ListPageRequest): Promise<ListPage<InboxItem>> {
  return list(uow, reading, asking, page, INBOX);
}

/**
 * The KP4 clients (`GET /v1/clients` with a `begeleiding-kp4` token without a client): the clients whose current
 * klantprofiel is KP4 and who live in the participatiecoach's municipality, by clientRef.
 */
export function readKp4Clients(uow: UnitOfWork, reading: ClientReading, asking: Caller, page: ListPageRequest): Promise<ListPage<Kp4Item>> {
  return list(uow, reading, asking, page, KP4);
}
