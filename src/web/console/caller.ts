import type { Context } from 'hono';
import { auditFacts } from '../../audit/facts.js';
import type { ToezichtCaller } from '../../audit/toezicht.js';
import type { HonoEnv } from '../../http/env.js';
import type { Requester } from '../../purposes.js';
import { WEB_CLIENT_ID } from '../oidc.js';
import { webFacts } from '../session.js';

/** The two purposes of the console: reading the log and the reports, and managing the policy. */
export type ConsolePurpose = 'toezicht' | 'beleidsbeheer';

/**
 * The caller of a verb from a console page: the logged-in officer as requester with the page's purpose, through the
 * web client, and the facts of this request (channel `web`). The verbs check role and purpose themselves, exactly as
 * for an API token, and write the same audit line. `done` is the status the page answers a success with.
 */
export function consoleCaller(c: Context<HonoEnv>, purpose: ConsolePurpose, done = 200): ToezichtCaller {
  const { login } = c.get('session');
  const requester: Requester = { issuer: login.issuer, sub: login.sub, role: login.role, org: login.org, purpose, clientId: WEB_CLIENT_ID };
  return { requester, facts: auditFacts(webFacts(c), requester), done };
}
