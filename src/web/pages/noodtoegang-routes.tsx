import { type Context, Hono } from 'hono';
import { readClientRecord, type ClientReading } from '../../clients/read.js';
import { DoelpoortError, isDoelpoortError } from '../../errors.js';
import type { AppDeps } from '../../http/deps.js';
import type { HonoEnv } from '../../http/env.js';
import {
  grantNoodtoegang,
  noodtoegangAvailable,
  noodtoegangLeft,
  noodtoegangRequestSchema,
  REDEN_MAX,
  REDEN_MIN,
  type GrantDeps,
} from '../../noodtoegang/grant.js';
import { DecisionCache } from '../../policy/decision-cache.js';
import type { Purpose, Role } from '../../purposes.js';
import { CLIENT_REF_PATTERN } from '../../records/suite-record.js';
import { refuse, type DenyLine } from '../../unit-of-work.js';
import { noodtoegangCaller, sessionFacts } from '../caller.js';
import { startReauthentication } from '../reauth.js';
import { requireCsrf, requireSession, seeOther, sessionIdOf } from '../session.js';
import {
  NOODTOEGANG_PATHS,
  NoodtoegangConfirmPage,
  NoodtoegangEndedPage,
  NoodtoegangRequestPage,
  NoodtoegangViewPage,
  NORMAL_ACCESS,
  type NoodtoegangErrors,
  type NoodtoegangForm,
} from './noodtoegang.js';
import { respond, webError } from './routes.js';

/**
 * Emergency access in the browser (api.md "Emergency access"): a person asks for a client that is not in their lists,
 * with a written reason; logs in again at their provider (the re-authentication the console's approval uses) just
 * before the grant; and then sees the client as the emergency rules release it, for at most 15 minutes, every view a
 * line flagged `noodtoegang`. The grant is src/noodtoegang/grant.ts's verb (the token exchange's checks, in its order,
 * with its lines), the reading src/clients/read.ts's (the same decision as an emergency token's). Which purpose an
 * emergency access is for follows from the role; the policy decides whether the role may have one at all.
 */

/** The purpose a role's emergency access would be for (a client purpose of the role); none for a privacy officer. */
const EMERGENCY_PURPOSE: Record<Role, Purpose | undefined> = {
  participatiecoach: 'begeleiding-kp4',
  werkcoach: 'overdracht-kp3',
  schuldhulpverlener: 'schuldhulpverlening',
  'privacy-officer': undefined,
};

/** The step a fresh login is asked for: the emergency access to this client. */
const STEP_PREFIX = 'noodtoegang:';

/** The one message for "not allowed" and "unknown client": the form is no oracle of which clientRefs exist. */
const NOT_ALLOWED = 'Noodtoegang tot deze cliënt is voor u niet mogelijk: het deelbeleid staat het niet toe. Er is niets geopend.';

const length = (s: string) => [...s].length;

/** The facts of a refusal's line: with the emergency purpose where the role has one, the person's only otherwise. */
const factsOf = (c: Context<HonoEnv>, purpose: Purpose | undefined) => (purpose ? noodtoegangCaller(c, purpose).facts : sessionFacts(c));

/** The form's problems, field by field, in Dutch; the reason of the refusal's line. */
function checkForm(form: NoodtoegangForm): { errors: NoodtoegangErrors; reason: string } | undefined {
  const errors: NoodtoegangErrors = {};
  let reason: string | undefined;
  if (form.clientRef === '') errors.clientRef = 'Vul het cliëntnummer in, zoals WZR-100001.';
  else if (/^\d{9}$/.test(form.clientRef.replace(/[\s.-]/g, '')))
    errors.clientRef = 'Dit lijkt een BSN. Vul het cliëntnummer van Werkzaak in, zoals WZR-100001; nooit een BSN.';
  else if (!CLIENT_REF_PATTERN.test(form.clientRef)) errors.clientRef = 'Een cliëntnummer ziet eruit als WZR-100001.';
  if (errors.clientRef) reason = 'CLIENT_REF_INVALID';
  if (!noodtoegangRequestSchema.shape.reden.safeParse(form.reden).success) {
    const n = length(form.reden.trim());
    errors.reden =
      n < REDEN_MIN
        ? `De reden is te kort: schrijf minstens ${REDEN_MIN} tekens (nu ${n}). Leg uit waarom u deze cliënt nu nodig hebt.`
        : n > REDEN_MAX
          ? `De reden is te lang: hoogstens ${REDEN_MAX} tekens (nu ${n}).`
          : 'De reden bevat tekens die niet zijn toegestaan.';
    reason ??= 'NOODTOEGANG_REDEN_INVALID';
  }
  return reason === undefined ? undefined : { errors, reason };
}

/** What a refusal of the grant says beside the form; its status is the one the API would answer. */
function refusalErrors(error: DoelpoortError, purpose: Purpose, clientRef: string, perWeek: number): NoodtoegangErrors {
  switch (error.reason) {
    case 'NOODTOEGANG_NOT_NEEDED': {
      const normal = NORMAL_ACCESS[purpose];
      return {
        clientRef: `U heeft al toegang tot deze cliënt via ${normal?.label ?? 'uw gewone lijsten'}: noodtoegang is niet nodig.`,
        ...(normal ? { access: { label: normal.label, href: `${normal.path}/${encodeURIComponent(clientRef)}` } } : {}),
      };
    }
    case 'NOODTOEGANG_LIMIT':
      return { request: `U hebt in de afgelopen 7 dagen al ${perWeek} keer noodtoegang gehad, het maximum. Er is niets geopend.` };
    default:
      return { clientRef: NOT_ALLOWED };
  }
}

export function noodtoegangPages(deps: AppDeps) {
  const { uow, policies, clock, config, reauthentications: reauth, sessionNoodtoegang: held, noodtoegangCounts: counts } = deps;
  const reading: ClientReading = { policies, clock, decisions: new DecisionCache() };
  const setting = { policies, perWeek: config.noodtoegangPerWeek };
  const grantDeps: GrantDeps = { uow, clock, noodtoegang: setting };
  const session = requireSession(deps);
  const csrf = requireCsrf(deps);

  /** The person's emergency purpose, whether the policy allows it, and how many are left this week. */
  const standing = async (c: Context<HonoEnv>) => {
    const purpose = EMERGENCY_PURPOSE[c.get('session').login.role];
    const available = purpose !== undefined && noodtoegangAvailable(setting, c.get('session').login.role, purpose);
    const { login } = c.get('session');
    const left = available ? await noodtoegangLeft(counts, clock, { iss: login.issuer, sub: login.sub }, setting) : 0;
    return { purpose, available, left };
  };

  const requestPage = async (
    c: Context<HonoEnv>,
    status: 200 | 400 | 403,
    form: NoodtoegangForm,
    extra: { errors?: NoodtoegangErrors; expired?: boolean } = {},
  ) => {
    const { available, left } = await standing(c);
    const { csrfToken } = c.get('session');
    return respond(c, status, (frame) => (
      <NoodtoegangRequestPage frame={frame} csrfToken={csrfToken} available={available} left={left} perWeek={setting.perWeek} form={form} {...extra} />
    ));
  };

  /** Writes the refusal's line (`token.refused`, flagged) and shows the form with its errors. */
  const refused = async (c: Context<HonoEnv>, purpose: Purpose | undefined, error: DoelpoortError, form: NoodtoegangForm, errors: NoodtoegangErrors) => {
    const clientRef = CLIENT_REF_PATTERN.test(form.clientRef) ? { clientRef: form.clientRef } : {};
    const line = { action: 'token.refused', ...factsOf(c, purpose), ...clientRef, noodtoegang: true } as DenyLine;
    try {
      await refuse(uow, error, line);
    } catch (thrown) {
      if (thrown !== error) throw thrown;
    }
    return requestPage(c, error.code === 'REQUEST_INVALID' ? 400 : 403, form, { errors });
  };

  const app = new Hono<HonoEnv>();
  app.onError(webError);
  return app
    .get(NOODTOEGANG_PATHS.request, session, (c) => requestPage(c, 200, { clientRef: '', reden: '' }, { expired: c.req.query('verlopen') === '1' }))

    .post(NOODTOEGANG_PATHS.request, session, csrf, async (c) => {
      const body = await c.req.parseBody();
      const given = typeof body.clientRef === 'string' ? body.clientRef.trim().toUpperCase() : '';
      const form: NoodtoegangForm = { clientRef: given, reden: typeof body.reden === 'string' ? body.reden : '' };
      const { purpose, available, left } = await standing(c);
      const invalid = checkForm(form);
      // A BSN typed by mistake is never written back into the page.
      const shown = invalid?.errors.clientRef && /^\d{9}$/.test(given.replace(/[\s.-]/g, '')) ? { ...form, clientRef: '' } : form;
      if (invalid)
        return refused(
          c,
          purpose,
          new DoelpoortError('REQUEST_INVALID', 'the emergency access request is invalid', [], { reason: invalid.reason }),
          shown,
          invalid.errors,
        );
      if (!available || purpose === undefined) {
        return refused(c, purpose, new DoelpoortError('ACCESS_DENIED', 'no emergency access for this role', [], { reason: 'NOODTOEGANG_NOT_ALLOWED' }), form, {
          clientRef: NOT_ALLOWED,
        });
      }
      if (left === 0) {
        const error = new DoelpoortError('ACCESS_DENIED', 'the weekly limit of emergency accesses is reached', [], { reason: 'NOODTOEGANG_LIMIT' });
        return refused(c, purpose, error, form, refusalErrors(error, purpose, form.clientRef, setting.perWeek));
      }
      const { login } = c.get('session');
      let url: URL;
      try {
        url = await startReauthentication(deps, {
          sessionId: sessionIdOf(c)!,
          login,
          step: `${STEP_PREFIX}${form.clientRef}`,
          detail: form.reden,
          returnTo: NOODTOEGANG_PATHS.confirm,
        });
      } catch {
        throw new DoelpoortError('INTERNAL', 'the login provider cannot be reached');
      }
      return seeOther(c, url.href);
    })

    .get(NOODTOEGANG_PATHS.confirm, session, async (c) => {
      const id = sessionIdOf(c)!;
      const step = await reauth.heldStep(id);
      const detail = step?.startsWith(STEP_PREFIX) ? (await reauth.heldFor(id, step))?.detail : undefined;
      if (step === undefined || detail === undefined) return seeOther(c, `${NOODTOEGANG_PATHS.request}?verlopen=1`);
      const { left } = await standing(c);
      const { csrfToken } = c.get('session');
      const form = { clientRef: step.slice(STEP_PREFIX.length), reden: detail };
      return respond(c, 200, (frame) => <NoodtoegangConfirmPage frame={frame} csrfToken={csrfToken} form={form} left={left} perWeek={setting.perWeek} />);
    })

    .post(NOODTOEGANG_PATHS.confirm, session, csrf, async (c) => {
      const id = sessionIdOf(c)!;
      const { purpose } = await standing(c);
      const step = await reauth.heldStep(id);
      const detail = step?.startsWith(STEP_PREFIX) ? (await reauth.heldFor(id, step))?.detail : undefined;
      const form: NoodtoegangForm = { clientRef: step?.slice(STEP_PREFIX.length) ?? '', reden: detail ?? '' };
      if (step === undefined || detail === undefined || !(await reauth.consume(id, step)) || purpose === undefined) {
        const error = new DoelpoortError('ACCESS_DENIED', 'an emergency access needs a fresh login', [], { reason: 'REAUTH_REQUIRED' });
        try {
          await refuse(uow, error, { action: 'token.refused', ...factsOf(c, purpose), noodtoegang: true } as DenyLine);
        } catch (thrown) {
          if (thrown !== error) throw thrown;
        }
        return requestPage(c, 403, { clientRef: '', reden: '' }, { expired: true });
      }
      try {
        const granted = await grantNoodtoegang(grantDeps, noodtoegangCaller(c, purpose, undefined, 303), {
          clientRef: form.clientRef,
          reden: form.reden.trim(),
        });
        await held.hold(id, granted);
        return seeOther(c, NOODTOEGANG_PATHS.view);
      } catch (error) {
        if (!isDoelpoortError(error) || error.code === 'AUDIT_WRITE_FAILED') throw error;
        return requestPage(c, error.code === 'REQUEST_INVALID' ? 400 : 403, form, { errors: refusalErrors(error, purpose, form.clientRef, setting.perWeek) });
      }
    })

    .get(NOODTOEGANG_PATHS.view, session, async (c) => {
      const access = await held.live(sessionIdOf(c)!);
      if (!access) return respond(c, 403, (frame) => <NoodtoegangEndedPage frame={frame} />);
      const client = await readClientRecord(uow, reading, noodtoegangCaller(c, access.purpose, access), access.clientRef);
      return respond(c, 200, (frame) => <NoodtoegangViewPage frame={frame} client={client} purpose={access.purpose} until={access.until} />);
    });
}
