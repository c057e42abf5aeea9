import type { Context } from 'hono';
import { Hono } from 'hono';
import { Document, isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { accessReport } from '../../audit/access-report.js';
import { downloadCheckpoint, logboekExport } from '../../audit/downloads.js';
import { localDate } from '../../audit/office-hours.js';
import {
  listReviews,
  monthlyQuerySchema,
  monthlyReport,
  recordReview,
  reviewInputSchema,
  reviewsQuerySchema,
  userQuerySchema,
  userReport,
} from '../../audit/oversight.js';
import { auditQuerySchema } from '../../audit/query.js';
import { auditScope, queryAudit, readAuditLine, verifyAuditTrail } from '../../audit/toezicht.js';
import { DAY_MS } from '../../clock.js';
import { DoelpoortError, isDoelpoortError, type Problem } from '../../errors.js';
import type { AppDeps } from '../../http/deps.js';
import type { HonoEnv } from '../../http/env.js';
import { usePageCsp } from '../../http/security-headers.js';
import { parseAudited } from '../../http/validate.js';
import type { PolicyDocument } from '../../policy/document.js';
import { approvePolicy, listPolicyVersions, policyImpact, proposePolicy, readPolicyVersion, rejectPolicy, simulatePolicy } from '../../policy/lifecycle.js';
import { parsePolicyText } from '../../policy/load.js';
import { policyDiff, policyMatrix } from '../../policy/matrix.js';
import { samePerson, versionSummary } from '../../policy/versions.js';

import { organisationSchema, purposeSchema, roleSchema } from '../../purposes.js';
import { clientRefSchema } from '../../records/suite-record.js';
import { refuse, type DenyLine } from '../../unit-of-work.js';
import { renderPage } from '../layout.js';
import { startReauthentication } from '../reauth.js';
import { requireCsrf, requireSession, seeOther, sessionIdOf } from '../session.js';
import { type AuditFilterErrors, AuditLinePage, AuditListPage, ConsoleStartPage, filtersOf, VerifyPage } from './audit-pages.js';
import type { AuditLine } from '../../audit/entry.js';
import { consoleCaller, type ConsolePurpose } from '../caller.js';
import { orRefusal, requireOfficer } from './guard.js';
import {
  ApprovePage,
  ImpactPage,
  PolicyListPage,
  PolicyVersionPage,
  ProposePage,
  SIMULATION_DEFAULTS,
  SimulatePage,
  type SimulationForm,
} from './policy-pages.js';
import { AccessReportPage, MonthlyPage, ReviewsPage, UsersPage } from './report-pages.js';
import { NoodtoegangItemPage, NoodtoegangQueuePage, type VerdictFormState } from './noodtoegang-pages.js';
import {
  countOverdueNoodtoegang,
  judgeNoodtoegang,
  listNoodtoegang,
  noodtoegangQuerySchema,
  readNoodtoegang,
  verdictBodySchema,
} from '../../noodtoegang/review.js';
import { POLICY_CONTROLLER } from '../../policy/versions.js';

/**
 * The privacy officer's console, mounted at `/beheer` (src/web/routes.ts): every route behind requireSession and
 * requireOfficer, every form post behind requireCsrf. Each page calls the same verb as the API route, with a caller
 * built from the session (`consoleCaller` in src/web/caller.ts), so each viewing is the same audit line as over the API, on
 * channel `web`. An input the page cannot take is refused, and logged, as the API refuses it (parseAudited).
 */

type Ctx = Context<HonoEnv>;

const idSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);

/** The step a fresh login is asked for: approving this version. */
const approveStep = (id: number) => `policy.approve:${id}`;

/**
 * Finds the line of a problem's path in the YAML text, when the path leads to a node (`rules[3].fields[1]` → 42). The
 * text is parsed once for all problems (a large document with many problems costs one parse, not one per problem).
 */
function lineFinder(text: string): (path: string) => number | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  return (path) => {
    const keys = [...path.matchAll(/([A-Za-z_$][\w$]*)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
    for (let n = keys.length; n > 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return counter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/** The order a person reads a rule's keys in (the stored document is canonical: its keys are sorted). */
const RULE_KEYS = ['role', 'purpose', 'action', 'subject', 'fields', 'conditions', 'inverted', 'reason'];

/** A policy document as YAML for the editor: each rule's keys in reading order, its field list on one line. */
function policyYaml(document: PolicyDocument): string {
  const rules = document.rules.map((rule) => {
    const r = rule as unknown as Record<string, unknown>;
    const keys = [...RULE_KEYS.filter((k) => k in r), ...Object.keys(r).filter((k) => !RULE_KEYS.includes(k))];
    return Object.fromEntries(keys.map((k) => [k, r[k]]));
  });
  const doc = new Document({ rules });
  const seq = doc.get('rules');
  if (isSeq(seq))
    for (const item of seq.items) {
      const fields = isMap(item) ? item.get('fields', true) : undefined;
      if (isSeq(fields)) fields.flow = true;
    }
  return doc.toString({ lineWidth: 0 });
}

/** A form field as text ('' when absent or a file). */
const text = (form: Record<string, unknown>, key: string): string => {
  const v = form[key];
  return typeof v === 'string' ? v : '';
};

export function consoleRoutes(deps: AppDeps): Hono<HonoEnv> {
  const { uow } = deps;
  const session = requireSession(deps);
  const officer = requireOfficer(deps);
  const csrf = requireCsrf(deps);
  const caller = (c: Ctx, purpose: ConsolePurpose, done = 200) => consoleCaller(c, purpose, done);
  const denied =
    (c: Ctx, action: DenyLine['action'], purpose: ConsolePurpose, extra: Record<string, unknown> = {}) =>
    (): DenyLine =>
      ({ action, ...caller(c, purpose).facts, ...extra }) as DenyLine;
  const frame = (c: Ctx, nonce: string) => ({ nonce, session: c.get('session'), path: c.req.path });
  const html = async (c: Ctx, status: 200 | 201 | 400 | 422, render: (nonce: string) => Parameters<typeof renderPage>[0]) => {
    const nonce = usePageCsp(c);
    return c.html(await renderPage(render(nonce)), status);
  };
  const versionId = (c: Ctx, action: DenyLine['action']) => parseAudited(uow, denied(c, action, 'beleidsbeheer'), idSchema, c.req.param('id'), 'path');
  /** The issuers of the web login: a person filter names one (a person is issuer and subject). */
  const issuers = () => [...new Set(deps.oidc.organisations().flatMap((o) => deps.oidc.issuerFor(o.code) ?? []))];

  return (
    new Hono<HonoEnv>()
      // ------------------------------------------------------------------------------------------------ start
      .get('/', session, officer, (c) =>
        orRefusal(c, async () => {
          const verification = await verifyAuditTrail(deps, caller(c, 'toezicht'));
          const { items } = await listPolicyVersions(deps, caller(c, 'beleidsbeheer'));
          const drafts = items.filter((v) => v.status === 'draft').length;
          const overdue = await countOverdueNoodtoegang(deps, caller(c, 'toezicht'));
          const checkpoint = await deps.audit.latestCheckpoint();
          return html(c, 200, (nonce) => (
            <ConsoleStartPage {...frame(c, nonce)} verification={verification} checkpoint={checkpoint} drafts={drafts} overdue={overdue} />
          ));
        }),
      )

      // --------------------------------------------------------------------------------------------- audit log
      .get('/auditlog', session, officer, (c) =>
        orRefusal(c, async () => {
          const { form, input } = filtersOf(c.req.query());
          const known = issuers();
          if (input.actor && !input.actorIss && known.length === 1) input.actorIss = known[0]!;
          const who = caller(c, 'toezicht');
          const scope = auditScope(who.requester).actorOrg ?? 'alle';
          const list = (status: 200 | 400, items: AuditLine[], next: string | null, errors?: AuditFilterErrors) =>
            html(c, status, (nonce) => (
              <AuditListPage
                {...frame(c, nonce)}
                filters={form}
                items={items}
                next={next}
                issuers={known}
                scope={scope}
                canExport={scope === 'alle'}
                errors={errors}
              />
            ));
          let query: z.output<typeof auditQuerySchema>;
          try {
            query = await parseAudited(uow, denied(c, 'audit.read', 'toezicht'), auditQuerySchema, input, 'query');
            if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
              const error = new DoelpoortError(
                'REQUEST_INVALID',
                'invalid query: the period ends before it starts',
                [{ path: 'query.to', message: 'before from' }],
                {
                  reason: 'PERIOD_INVALID',
                },
              );
              await refuse(uow, error, denied(c, 'audit.read', 'toezicht')());
            }
          } catch (error) {
            // The refusal is logged as over the API; the officer gets the form back with the errors beside the fields.
            if (!isDoelpoortError(error) || error.code !== 'REQUEST_INVALID') throw error;
            return list(400, [], null, filterErrors(error));
          }
          const page = await queryAudit(deps, who, query);
          return list(200, page.items, page.next);
        }),
      )
      .get('/auditlog/regel/:seq', session, officer, (c) =>
        orRefusal(c, async () => {
          const seq = await parseAudited(uow, denied(c, 'audit.read', 'toezicht'), idSchema, c.req.param('seq'), 'path');
          const line = await readAuditLine(deps, caller(c, 'toezicht'), seq);
          return html(c, 200, (nonce) => <AuditLinePage {...frame(c, nonce)} line={line} />);
        }),
      )
      .get('/auditlog/controle', session, officer, (c) =>
        orRefusal(c, async () => {
          const result = await verifyAuditTrail(deps, caller(c, 'toezicht'));
          const checkpoint = await deps.audit.latestCheckpoint();
          return html(c, 200, (nonce) => <VerifyPage {...frame(c, nonce)} result={result} checkpoint={checkpoint} />);
        }),
      )
      .get('/auditlog/controlepunt', session, officer, (c) =>
        orRefusal(c, async () => {
          const checkpoint = await downloadCheckpoint(deps, caller(c, 'toezicht'));
          return c.body(`${JSON.stringify(checkpoint, null, 2)}\n`, 200, {
            'content-type': 'application/json; charset=utf-8',
            'content-disposition': `attachment; filename="doelpoort-controlepunt-${checkpoint.size}.json"`,
            'cache-control': 'no-store',
          });
        }),
      )
      .get('/auditlog/logboek', session, officer, (c) =>
        orRefusal(c, async () => {
          const { input } = filtersOf(c.req.query());
          const range = await parseAudited(uow, denied(c, 'audit.read', 'toezicht'), auditQuerySchema.pick({ from: true, to: true }).strict(), input, 'query');
          const records = await logboekExport(
            { ...deps, registerUrl: deps.config.registerUrl, gatewayUrl: deps.config.publicUrl },
            caller(c, 'toezicht'),
            range,
          );
          return c.body(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 200, {
            'content-type': 'application/x-ndjson; charset=utf-8',
            'content-disposition': 'attachment; filename="doelpoort-logboek.ndjson"',
            'cache-control': 'no-store',
          });
        }),
      )

      // ---------------------------------------------------------------------------------------------- policies
      .get('/beleid', session, officer, (c) =>
        orRefusal(c, async () => {
          const { active, items } = await listPolicyVersions(deps, caller(c, 'beleidsbeheer'));
          return html(c, 200, (nonce) => <PolicyListPage {...frame(c, nonce)} active={active} items={items} />);
        }),
      )
      .get('/beleid/nieuw', session, officer, (c) =>
        orRefusal(c, async () => {
          // The editor starts from the active version's document: reading it is a policy.read line like any other.
          const active = await readPolicyVersion(deps, caller(c, 'beleidsbeheer'), deps.policies.version.id);
          return html(c, 200, (nonce) => <ProposePage {...frame(c, nonce)} text={policyYaml(active.document as PolicyDocument)} problems={[]} />);
        }),
      )
      .post('/beleid/nieuw', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const form = await c.req.parseBody();
          const file = form.bestand;
          const fromFile = file instanceof File && file.size > 0;
          const name = fromFile ? (file.name.endsWith('.json') ? 'bestand.json' : 'bestand.yaml') : 'beleid.yaml';
          const source = fromFile ? await file.text() : text(form, 'beleid');
          const invalid = (problems: readonly Problem[]) => {
            const lineOf = name.endsWith('.yaml') ? lineFinder(source) : () => undefined;
            const located = problems.map((p) => ({ ...p, line: lineOf(p.path) }));
            return html(c, 422, (nonce) => <ProposePage {...frame(c, nonce)} text={source} problems={located} />);
          };
          const parsed = parsePolicyText(name, source);
          try {
            if (!parsed.ok) {
              const error = new DoelpoortError('POLICY_INVALID', 'the policy text cannot be read', parsed.problems);
              await refuse(uow, error, denied(c, 'policy.proposed', 'beleidsbeheer')());
            }
            const version = await proposePolicy(deps, caller(c, 'beleidsbeheer', 303), parsed.ok ? parsed.value : undefined);
            return seeOther(c, `/beheer/beleid/${version.id}?voorgesteld=1`);
          } catch (error) {
            if (isDoelpoortError(error) && error.code === 'POLICY_INVALID') return invalid(error.problems);
            throw error;
          }
        }),
      )
      .get('/beleid/simuleren', session, officer, (c) =>
        orRefusal(c, async () => {
          const { items } = await listPolicyVersions(deps, caller(c, 'beleidsbeheer'));
          const form: SimulationForm = {
            versie: c.req.query('versie') ?? '',
            rol: 'participatiecoach',
            organisatie: 'GM1960',
            doel: 'overdracht-kp4',
            clientRef: '',
            dossier: '',
            ...SIMULATION_DEFAULTS,
          };
          return html(c, 200, (nonce) => <SimulatePage {...frame(c, nonce)} form={form} versions={items} />);
        }),
      )
      .post('/beleid/simuleren', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const body = await c.req.parseBody();
          const form: SimulationForm = {
            versie: text(body, 'versie'),
            rol: text(body, 'rol'),
            organisatie: text(body, 'organisatie'),
            doel: text(body, 'doel'),
            clientRef: text(body, 'clientRef').trim().toUpperCase(),
            dossier: text(body, 'dossier'),
            ...(Object.fromEntries(Object.keys(SIMULATION_DEFAULTS).map((k) => [k, text(body, k)])) as Record<keyof typeof SIMULATION_DEFAULTS, string>),
          };
          const { items } = await listPolicyVersions(deps, caller(c, 'beleidsbeheer'));
          const shown = (status: 200 | 422, extra: Parameters<typeof SimulatePage>[0] extends infer P ? Partial<P> : never) =>
            html(c, status, (nonce) => <SimulatePage {...frame(c, nonce)} form={form} versions={items} {...extra} />);
          try {
            let record: Record<string, unknown> | undefined;
            if (form.clientRef === '' && form.dossier.trim() === '') record = hypotheticalRecord(form, deps.clock.now());
            else if (form.clientRef === '') {
              try {
                record = JSON.parse(form.dossier) as Record<string, unknown>;
              } catch {
                const error = new DoelpoortError('REQUEST_INVALID', 'give a clientRef or a hypothetical record', [
                  { path: 'dossier', message: 'geef een cliëntnummer, of een verzonnen dossier als JSON' },
                ]);
                return await refuse(uow, error, denied(c, 'policy.simulated', 'beleidsbeheer')());
              }
            }
            const input = await parseAudited(
              uow,
              denied(c, 'policy.simulated', 'beleidsbeheer'),
              z.strictObject({
                policy: idSchema.optional(),
                role: roleSchema,
                org: organisationSchema,
                purpose: purposeSchema,
                clientRef: clientRefSchema.optional(),
                record: z.record(z.string(), z.unknown()).optional(),
              }),
              {
                ...(form.versie ? { policy: form.versie } : {}),
                role: form.rol,
                org: form.organisatie,
                purpose: form.doel,
                ...(form.clientRef ? { clientRef: form.clientRef } : { record }),
              },
              'body',
            );
            const result = await simulatePolicy(deps, caller(c, 'beleidsbeheer'), input);
            return shown(200, { result });
          } catch (error) {
            if (!isDoelpoortError(error) || error.code === 'AUDIT_WRITE_FAILED') throw error;
            const problems = error.problems.length > 0 ? [...error.problems] : [{ path: error.reason, message: refusalText(error) }];
            return shown(422, { problems });
          }
        }),
      )
      .get('/beleid/:id', session, officer, (c) =>
        orRefusal(c, async () => {
          const id = await versionId(c, 'policy.read');
          const version = await readPolicyVersion(deps, caller(c, 'beleidsbeheer'), id);
          const active = deps.policies.version;
          const document = version.document as PolicyDocument;
          const diff = version.status === 'draft' ? policyDiff(active.document as PolicyDocument, document) : undefined;
          const { login } = c.get('session');
          const notice =
            c.req.query('voorgesteld') === '1'
              ? 'Het concept is opgeslagen. Een andere privacy officer van Werkzaak kan het nu goedkeuren.'
              : c.req.query('goedgekeurd') === '1'
                ? `Versie ${id} is goedgekeurd en geldt nu.`
                : c.req.query('afgewezen') === '1'
                  ? `Versie ${id} is afgewezen.`
                  : undefined;
          return html(c, 200, (nonce) => (
            <PolicyVersionPage
              {...frame(c, nonce)}
              version={version}
              matrix={policyMatrix(document)}
              diff={diff}
              activeId={active.id}
              isAuthor={samePerson(version.author, { iss: login.issuer, sub: login.sub })}
              {...(notice ? { notice } : {})}
            />
          ));
        }),
      )
      .get('/beleid/:id/gevolgen', session, officer, (c) =>
        orRefusal(c, async () => {
          const id = await versionId(c, 'policy.impact');
          const query = z.strictObject({ dagen: z.coerce.number().int().min(1).max(365).default(30) });
          const { dagen } = await parseAudited(uow, denied(c, 'policy.impact', 'beleidsbeheer', { policyId: id }), query, c.req.query(), 'query');
          const impact = await policyImpact(deps, caller(c, 'beleidsbeheer'), { id, days: dagen });
          return html(c, 200, (nonce) => <ImpactPage {...frame(c, nonce)} id={id} days={dagen} impact={impact} />);
        }),
      )
      .get('/beleid/:id/goedkeuren', session, officer, (c) =>
        orRefusal(c, async () => {
          const id = await versionId(c, 'policy.read');
          const version = await readPolicyVersion(deps, caller(c, 'beleidsbeheer'), id);
          const { login } = c.get('session');
          const fresh = await deps.reauthentications.holds(sessionIdOf(c)!, approveStep(id));
          const isAuthor = samePerson(version.author, { iss: login.issuer, sub: login.sub });
          return html(c, 200, (nonce) => <ApprovePage {...frame(c, nonce)} version={versionSummary(version)} fresh={fresh} isAuthor={isAuthor} />);
        }),
      )
      .post('/beleid/:id/opnieuw-inloggen', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const id = await versionId(c, 'policy.approved');
          const { login } = c.get('session');
          let url: URL;
          try {
            url = await startReauthentication(deps, { sessionId: sessionIdOf(c)!, login, step: approveStep(id), returnTo: `/beheer/beleid/${id}/goedkeuren` });
          } catch {
            throw new DoelpoortError('INTERNAL', 'the login provider cannot be reached');
          }
          return seeOther(c, url.href);
        }),
      )
      .post('/beleid/:id/goedkeuren', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const id = await versionId(c, 'policy.approved');
          if (!(await deps.reauthentications.consume(sessionIdOf(c)!, approveStep(id)))) {
            const error = new DoelpoortError('ACCESS_DENIED', 'approving needs a fresh login', [], { reason: 'REAUTH_REQUIRED' });
            await refuse(uow, error, denied(c, 'policy.approved', 'beleidsbeheer', { policyId: id })());
          }
          await approvePolicy(deps, caller(c, 'beleidsbeheer', 303), id);
          return seeOther(c, `/beheer/beleid/${id}?goedgekeurd=1`);
        }),
      )
      .post('/beleid/:id/afwijzen', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const id = await versionId(c, 'policy.rejected');
          const body = await c.req.parseBody();
          const { reden } = await parseAudited(
            uow,
            denied(c, 'policy.rejected', 'beleidsbeheer', { policyId: id }),
            z.object({ reden: z.string().trim().min(1).max(500) }),
            { reden: text(body, 'reden') },
            'body',
          );
          await rejectPolicy(deps, caller(c, 'beleidsbeheer', 303), id, reden);
          return seeOther(c, `/beheer/beleid/${id}?afgewezen=1`);
        }),
      )

      // ----------------------------------------------------------------------------------------- access report
      .get('/inzage', session, officer, (c) =>
        orRefusal(c, async () => {
          const given = (c.req.query('clientRef') ?? '').trim().toUpperCase();
          if (given === '') return html(c, 200, (nonce) => <AccessReportPage {...frame(c, nonce)} clientRef="" />);
          // A malformed reference (a BSN, say) is refused and logged without it, as over the API.
          const clientRef = await parseAudited(uow, denied(c, 'access-report.read', 'toezicht'), clientRefSchema, given, 'query');
          const report = await accessReport(deps, caller(c, 'toezicht'), clientRef);
          return html(c, 200, (nonce) => <AccessReportPage {...frame(c, nonce)} clientRef={clientRef} report={report} />);
        }),
      )

      // ------------------------------------------------------------------------------------- emergency access
      .get('/noodtoegang', session, officer, (c) =>
        orRefusal(c, async () => {
          const raw = c.req.query();
          const query = await parseAudited(uow, denied(c, 'noodtoegang.read', 'toezicht'), noodtoegangQuerySchema, raw, 'query');
          const page = await listNoodtoegang(deps, caller(c, 'toezicht'), query);
          return html(c, 200, (nonce) => (
            <NoodtoegangQueuePage {...frame(c, nonce)} page={page} status={query.status} paged={query.cursor !== undefined} now={deps.clock.now()} />
          ));
        }),
      )
      .get('/noodtoegang/:id', session, officer, (c) =>
        orRefusal(c, async () => {
          const { id } = await parseAudited(uow, denied(c, 'noodtoegang.read', 'toezicht'), noodtoegangId, c.req.param(), 'path');
          const item = await readNoodtoegang(deps, caller(c, 'toezicht'), id);
          const form: VerdictFormState = { noForm: verdictFormFor(c, item), verdict: '', note: '' };
          return html(c, 200, (nonce) => (
            <NoodtoegangItemPage {...frame(c, nonce)} item={item} form={form} recorded={c.req.query('vastgelegd') === '1'} now={deps.clock.now()} />
          ));
        }),
      )
      .post('/noodtoegang/:id/oordeel', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const { id } = await parseAudited(uow, denied(c, 'noodtoegang.verdict', 'toezicht'), noodtoegangId, c.req.param(), 'path');
          const body = await c.req.parseBody();
          const input = { verdict: text(body, 'verdict'), note: text(body, 'note') };
          const checked = verdictBodySchema.safeParse(input);
          if (!checked.success) {
            // Refused and logged as over the API; the form comes back with the errors beside the fields.
            const paths = new Set(checked.error.issues.map((i) => String(i.path[0])));
            const error = new DoelpoortError(
              'REQUEST_INVALID',
              'invalid body',
              [...paths].map((path) => ({ path: `body.${path}`, message: 'invalid value' })),
            );
            try {
              await refuse(uow, error, denied(c, 'noodtoegang.verdict', 'toezicht', { noodtoegangId: id })());
            } catch (thrown) {
              if (thrown !== error) throw thrown;
            }
            const item = await readNoodtoegang(deps, caller(c, 'toezicht'), id);
            const form: VerdictFormState = {
              noForm: verdictFormFor(c, item),
              ...input,
              errors: {
                verdict: paths.has('verdict') ? 'Kies terecht of onterecht.' : undefined,
                note: paths.has('note') ? 'Schrijf een toelichting van hoogstens 2000 tekens.' : undefined,
              },
            };
            return html(c, 422, (nonce) => <NoodtoegangItemPage {...frame(c, nonce)} item={item} form={form} recorded={false} now={deps.clock.now()} />);
          }
          await judgeNoodtoegang(deps, caller(c, 'toezicht', 303), id, checked.data);
          return seeOther(c, `/beheer/noodtoegang/${id}?vastgelegd=1`);
        }),
      )

      // -------------------------------------------------------------------------------------------- oversight
      .get('/toezicht', session, officer, (c) => seeOther(c, '/beheer/toezicht/maand'))
      .get('/toezicht/maand', session, officer, (c) =>
        orRefusal(c, async () => {
          const month = c.req.query('maand') || localDate(deps.clock.now()).slice(0, 7);
          const { month: checked } = await parseAudited(uow, denied(c, 'oversight.read', 'toezicht'), monthlyQuerySchema, { month }, 'query');
          const report = await monthlyReport(deps, caller(c, 'toezicht'), checked);
          return html(c, 200, (nonce) => <MonthlyPage {...frame(c, nonce)} report={report} />);
        }),
      )
      .get('/toezicht/personen', session, officer, (c) =>
        orRefusal(c, async () => {
          const now = deps.clock.now();
          const period = { from: c.req.query('van') || localDate(now - 29 * DAY_MS), to: c.req.query('tot') || localDate(now) };
          const checked = await parseAudited(uow, denied(c, 'oversight.read', 'toezicht'), userQuerySchema, period, 'query');
          const report = await userReport(deps, caller(c, 'toezicht'), checked);
          return html(c, 200, (nonce) => <UsersPage {...frame(c, nonce)} report={report} />);
        }),
      )
      .get('/toezicht/beoordelingen', session, officer, (c) =>
        orRefusal(c, async () => {
          const { vastgelegd, ...rest } = c.req.query();
          const query = await parseAudited(uow, denied(c, 'oversight.read', 'toezicht'), reviewsQuerySchema, rest, 'query');
          const page = await listReviews(deps, caller(c, 'toezicht'), query);
          const recorded = vastgelegd ? page.items.find((r) => String(r.id) === vastgelegd) : undefined;
          return html(c, 200, (nonce) => <ReviewsPage {...frame(c, nonce)} page={page} recorded={recorded} />);
        }),
      )
      .post('/toezicht/beoordelingen', session, officer, csrf, (c) =>
        orRefusal(c, async () => {
          const body = await c.req.parseBody();
          const subject = text(body, 'onderwerp');
          const note = text(body, 'notitie');
          const input =
            subject === 'monthly' ? { subject, month: text(body, 'maand'), note } : { subject, from: text(body, 'van'), to: text(body, 'tot'), note };
          const checked = await parseAudited(uow, denied(c, 'oversight.reviewed', 'toezicht'), reviewInputSchema, input, 'body');
          const review = await recordReview(deps, caller(c, 'toezicht', 303), checked);
          return seeOther(c, `/beheer/toezicht/beoordelingen?vastgelegd=${review.id}`);
        }),
      )
  );
}

const noodtoegangId = z.strictObject({ id: z.uuid() });

/** What the audit filter form says beside each field a refused query names (the field, never the value). */
function filterErrors(error: DoelpoortError): AuditFilterErrors {
  const errors: AuditFilterErrors = {};
  for (const { path } of error.problems) {
    const field = path.split('.')[1];
    if (field === 'clientRef') errors.clientRef = 'Dit is geen cliëntnummer. Een cliëntnummer ziet eruit als WZR-100001; zoek nooit op BSN.';
    else if (field === 'from' || field === 'to') {
      errors[field] =
        error.reason === 'PERIOD_INVALID'
          ? 'De einddatum ligt vóór de begindatum.'
          : 'Dit is geen geldige datum. Kies een datum of schrijf hem als jjjj-mm-dd.';
    } else if (field === 'actor' || field === 'actorIss' || field === 'purpose' || field === 'outcome') errors[field] = 'Deze waarde kan hier niet.';
    else errors.form = 'De zoekvraag kan niet worden uitgevoerd. Wis de filters en probeer het opnieuw.';
  }
  return errors;
}

/** Why the officer gets no verdict form on this access: not Werkzaak's, or their own; undefined: they get it. */
function verdictFormFor(c: Ctx, item: { actor: { iss: string; sub: string } }): VerdictFormState['noForm'] {
  const { login } = c.get('session');
  if (login.org !== POLICY_CONTROLLER) return 'not-controller';
  return samePerson(item.actor, { iss: login.issuer, sub: login.sub }) ? 'own' : undefined;
}

/**
 * The hypothetical record of the simulation form's few facts: a valid Suite line (the simulation validates it like an
 * import line), its free text invented. A value the form did not offer is passed on as is and refused there.
 */
function hypotheticalRecord(f: SimulationForm, now: number): Record<string, unknown> {
  const today = new Date(now).toISOString().slice(0, 10);
  const record: Record<string, unknown> = {
    clientRef: 'WZR-999999',
    bsn: '999999990',
    persoon: {
      voornamen: 'Verzonnen',
      achternaam: 'Cliënt',
      geboortedatum: '1980-01-01',
      adres: { straat: 'Voorbeeldstraat', huisnummer: '1', postcode: '1234 AB', woonplaats: 'Voorbeeld' },
      gemeente: f.gemeente,
    },
    klantprofielen: [{ profiel: f.profiel, vanaf: '2024-01-01', tot: null }],
  };
  if (f.overdracht)
    record.overdrachten = [
      {
        id: 'OV-1',
        richting: f.overdracht,
        status: f.overdrachtStatus,
        datum: today,
        vanOrganisatie: f.overdracht === 'KP3-KP4' ? 'WERKZAAK' : f.gemeente,
        naarOrganisatie: f.overdrachtNaar,
        clientGeinformeerd: true,
        bezwaarTegenDelen: false,
      },
    ];
  if (f.schuldhulp === 'ja') record.schuldhulptrajecten = [{ id: 'SH-1', gemeente: f.gemeente, vanaf: '2024-01-01', tot: null }];
  if (f.onderzoek === 'ja')
    record.belastbaarheidsonderzoeken = [
      { id: 'BO-1', datum: today, uitvoerder: { discipline: 'verzekeringsarts' }, arbeidsvermogen: 'beperkt', diagnose: 'verzonnen', medicatie: 'verzonnen' },
    ];
  if (f.boete) record.boetes = [{ id: 'BT-1', status: f.boete, datum: today, bedrag: 100, reden: 'verzonnen' }];
  if (f.fraude === 'ja') record.fraudeonderzoeken = [{ id: 'FO-1', status: 'lopend', gestart: today, omschrijving: 'verzonnen' }];
  return record;
}

/** A refusal's one-line explanation for a form that shows it beside its fields. */
function refusalText(error: DoelpoortError): string {
  switch (error.code) {
    case 'CLIENT_NOT_ALLOWED':
      return 'uw organisatie kan deze cliënt niet zien; simuleer met een verzonnen dossier';
    case 'RECORD_NOT_FOUND':
      return 'er is geen cliënt met dit cliëntnummer';
    case 'POLICY_NOT_FOUND':
      return 'deze beleidsversie bestaat niet';
    case 'PURPOSE_NOT_ALLOWED':
      return 'uw rol of doel staat dit niet toe';
    default:
      return 'het verzoek is geweigerd';
  }
}
