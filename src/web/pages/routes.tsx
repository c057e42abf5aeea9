import { type Context, Hono } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { readOwnUse } from '../../audit/own-use.js';
import { readInbox, readKp4Clients } from '../../clients/lists.js';
import { findClientByBsn, readCaseload, readClientRecord, readHandoverDocument, type ClientReading } from '../../clients/read.js';
import { isDoelpoortError } from '../../errors.js';
import type { AppDeps } from '../../http/deps.js';
import type { HonoEnv, WebSession } from '../../http/env.js';
import { codeToStatus } from '../../http/problem.js';
import { usePageCsp } from '../../http/security-headers.js';
import { parseAudited } from '../../http/validate.js';
import { DecisionCache } from '../../policy/decision-cache.js';
import { clientRefSchema, isValidBsn } from '../../records/suite-record.js';
import type { DenyLine } from '../../unit-of-work.js';
import { sessionFacts, webCaller } from '../caller.js';
import { requireCsrf, requireSession } from '../session.js';
import { renderPage } from '../layout.js';
import { ClientPage, type ClientPagePurpose } from './client.js';
import { ErrorPage, type ErrorStatus } from './error.js';
import { type Frame, frameFor, WEB_PATHS } from './frame.js';
import { HandoverPage } from './handover.js';
import { InboxPage, Kp4ClientsPage } from './lists.js';
import { RoleHomePage } from './home.js';
import { OwnUsePage } from './own-use.js';
import { CaseloadPage, type LookupError, LookupPage } from './schuldhulp.js';

/** How many rows a list page shows. */
const PAGE_SIZE = 20;

/**
 * A page as the answer: a fresh CSP nonce, `no-store` (every page holds personal data, or says who is logged in),
 * and the frame of the session (if any) around the content.
 */
export async function respond(c: Context<HonoEnv>, status: ContentfulStatusCode, page: (frame: Frame) => JSX.Element): Promise<Response> {
  const nonce = usePageCsp(c);
  c.header('cache-control', 'no-store');
  const html = await renderPage(page(frameFor(c.get('session') as WebSession | undefined, nonce, c.req.path)));
  return c.html(html, status);
}

/** The error page a refusal or failure answers with; never more than its status says. */
function errorStatus(error: unknown): ErrorStatus {
  if (!isDoelpoortError(error)) return 500;
  const status = codeToStatus[error.code];
  if (status === 400 || status === 503) return status;
  // Refused, or (defence in depth: no page verb answers it) not found: one page, so it never says which.
  if (status === 401 || status === 403 || status === 404) return 403;
  return 500;
}

/**
 * The role pages' error handler: the error page for a refusal, 503 without data when no line could be written, 500
 * for anything else. Exported for the integrator's other web routes (the session middleware's refusals, say).
 */
export async function webError(error: Error, c: Context<HonoEnv>): Promise<Response> {
  const status = errorStatus(error);
  // Never log the message of an unknown error: drivers and parsers put values into theirs.
  if (!isDoelpoortError(error)) console.error(JSON.stringify({ level: 'error', msg: 'unhandled error', requestId: c.get('requestId'), error: error.name }));
  return respond(c, status, (frame) => <ErrorPage frame={frame} status={status} requestId={c.get('requestId')} />);
}

/** The 404 page, for the integrator's not-found handler on the web application's paths. */
export function webNotFound(c: Context<HonoEnv>): Promise<Response> {
  return respond(c, 404, (frame) => <ErrorPage frame={frame} status={404} requestId={c.get('requestId')} />);
}

const cursorQuery = z.object({ cursor: clientRefSchema.optional() });
const auditCursorQuery = z.object({ cursor: z.string().min(1).max(64).optional() });
const lookupForm = z.strictObject({ csrf: z.string().min(1).max(256), bsn: z.string().max(64) });

/** What the form says of a BSN the look-up refused as input (the BSN itself is never written back). */
function lookupInputError(bsn: string): LookupError {
  if (bsn === '') return 'empty';
  return /^\d{9}$/.test(bsn) ? (isValidBsn(bsn) ? 'not-found' : 'elfproef') : 'format';
}

/**
 * The role pages of the web application (docs/architecture.md, Web application), each behind `requireSession` (which
 * puts `session` on the context) and each form also behind `requireCsrf`: per route, as this router shares `/` with
 * the API. Every page that shows client data runs one verb of
 * src/clients/read.ts with a caller bound to the page's purpose and the client of its URL (src/web/caller.ts), so it
 * gets the same decision and audit line as the API, with channel `web`. A refusal is the one 403 page; a line that
 * could not be written is a 503 page with no data.
 *
 * The lists (the two handover inboxes, "Mijn KP4-cliënten") run the list verbs of src/clients/lists.ts the same way,
 * with a caller of the list's purpose bound to no client.
 */
export function rolePages(deps: AppDeps) {
  const { uow, policies, clock } = deps;
  const reading: ClientReading = { policies, clock, decisions: new DecisionCache() };
  const version = () => policies.set.version;

  const handover = async (c: Context<HonoEnv>, purpose: 'overdracht-kp4' | 'overdracht-kp3') => {
    const caller = await webCaller(uow, c, { purpose, clientRef: c.req.param('clientRef') ?? '', action: 'document.read', policyVersion: version() });
    const { document, decision } = await readHandoverDocument(uow, reading, caller, caller.requester.client!);
    return respond(c, 200, (frame) => <HandoverPage frame={frame} document={document} decision={decision} generatedAt={clock.now()} />);
  };

  const clientPage = async (c: Context<HonoEnv>, purpose: ClientPagePurpose) => {
    const caller = await webCaller(uow, c, { purpose, clientRef: c.req.param('clientRef') ?? '', action: 'record.read', policyVersion: version() });
    const client = await readClientRecord(uow, reading, caller, caller.requester.client!);
    return respond(c, 200, (frame) => <ClientPage frame={frame} client={client} purpose={purpose} />);
  };

  const listPage = async (c: Context<HonoEnv>, purpose: 'overdracht-kp4' | 'overdracht-kp3' | 'begeleiding-kp4') => {
    const caller = await webCaller(uow, c, { purpose, action: 'list.read', policyVersion: version() });
    const deny = (): DenyLine => ({ action: 'list.read', ...caller.facts, policyVersion: version() });
    const { cursor } = await parseAudited(uow, deny, cursorQuery, c.req.query(), 'query');
    const paged = cursor !== undefined;
    if (purpose === 'begeleiding-kp4') {
      const page = await readKp4Clients(uow, reading, caller, { cursor, limit: PAGE_SIZE });
      return respond(c, 200, (frame) => <Kp4ClientsPage frame={frame} page={page} paged={paged} />);
    }
    const page = await readInbox(uow, reading, caller, { cursor, limit: PAGE_SIZE });
    const direction = purpose === 'overdracht-kp4' ? 'KP3-KP4' : 'KP4-KP3';
    return respond(c, 200, (frame) => <InboxPage frame={frame} direction={direction} page={page} paged={paged} />);
  };

  const session = requireSession(deps);
  const csrf = requireCsrf(deps);
  const app = new Hono<HonoEnv>();
  app.onError(webError);
  return app
    .get(WEB_PATHS.home, session, (c) => respond(c, 200, (frame) => <RoleHomePage frame={frame} session={c.get('session')} />))
    .get(WEB_PATHS.inbox, session, (c) => listPage(c, 'overdracht-kp4'))
    .get(WEB_PATHS.returns, session, (c) => listPage(c, 'overdracht-kp3'))
    .get(WEB_PATHS.kp4Clients, session, (c) => listPage(c, 'begeleiding-kp4'))
    .get(`${WEB_PATHS.inbox}/:clientRef`, session, (c) => handover(c, 'overdracht-kp4'))
    .get(`${WEB_PATHS.returns}/:clientRef`, session, (c) => handover(c, 'overdracht-kp3'))
    .get(`${WEB_PATHS.kp4Clients}/:clientRef`, session, (c) => clientPage(c, 'begeleiding-kp4'))
    .get(`${WEB_PATHS.schuldhulp}/clienten/:clientRef`, session, (c) => clientPage(c, 'schuldhulpverlening'))
    .get(WEB_PATHS.schuldhulp, session, async (c) => {
      const caller = await webCaller(uow, c, { purpose: 'schuldhulpverlening', action: 'caseload.read', policyVersion: version() });
      const deny = (): DenyLine => ({ action: 'caseload.read', ...caller.facts, policyVersion: version() });
      const { cursor } = await parseAudited(uow, deny, cursorQuery, c.req.query(), 'query');
      const page = await readCaseload(uow, reading, caller, { cursor, limit: PAGE_SIZE });
      const { csrfToken } = c.get('session');
      return respond(c, 200, (frame) => <CaseloadPage frame={frame} csrfToken={csrfToken} page={page} paged={cursor !== undefined} />);
    })
    .post(WEB_PATHS.lookup, session, csrf, async (c) => {
      const caller = await webCaller(uow, c, { purpose: 'schuldhulpverlening', action: 'client.lookup', policyVersion: version(), done: 303 });
      const deny = (): DenyLine => ({ action: 'client.lookup', ...caller.facts, policyVersion: version() });
      const form = await parseAudited(uow, deny, lookupForm, await c.req.parseBody(), 'body');
      const { csrfToken } = c.get('session');
      // People type a BSN with spaces or dots between the groups of digits.
      const bsn = form.bsn.replace(/[\s.-]/g, '');
      try {
        const found = await findClientByBsn(uow, reading, caller, bsn);
        if (!found.ok) return respond(c, 403, (frame) => <LookupPage frame={frame} csrfToken={csrfToken} error="not-found" />);
        c.header('cache-control', 'no-store');
        return c.redirect(`${WEB_PATHS.schuldhulp}/clienten/${encodeURIComponent(found.value.clientRef)}`, 303);
      } catch (error) {
        if (!isDoelpoortError(error) || error.code !== 'REQUEST_INVALID') throw error;
        return respond(c, 400, (frame) => <LookupPage frame={frame} csrfToken={csrfToken} error={lookupInputError(bsn)} />);
      }
    })
    .get(WEB_PATHS.ownUse, session, async (c) => {
      const facts = sessionFacts(c);
      const { cursor } = await parseAudited(uow, () => ({ action: 'audit.read', ...facts }), auditCursorQuery, c.req.query(), 'query');
      const page = await readOwnUse(uow, { facts, done: 200 }, { cursor, limit: PAGE_SIZE });
      return respond(c, 200, (frame) => <OwnUsePage frame={frame} page={page} paged={cursor !== undefined} />);
    });
}
