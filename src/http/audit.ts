import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AuditEntry, AuditLine } from '../audit/entry.js';
import { auditQuerySchema } from '../audit/query.js';
import { DoelpoortError } from '../errors.js';
import { PURPOSES } from '../purposes.js';
import { clientRefSchema } from '../records/suite-record.js';
import type { AppDeps } from './deps.js';
import { requesterFacts } from './context.js';
import type { HonoEnv } from './env.js';
import { protectedProblems, problemSchema, type Operation } from './openapi.js';
import { parseInput, parseInputLogged } from './validate.js';

const clientParams = z.strictObject({ clientRef: clientRefSchema });
const noQuery = z.strictObject({});

/** The data categories of a citizen's access report, by section of the record (Dutch: the citizen reads them). */
const CATEGORIES: Record<string, string> = {
  clientRef: 'Cliëntnummer',
  persoon: 'Persoonsgegevens',
  uitkering: 'Uitkering en inhoudingen',
  klantprofielen: 'Klantprofiel',
  ontheffingen: 'Ontheffingen van de arbeidsplicht',
  belastbaarheidsonderzoeken: 'Belastbaarheid (gegevens over gezondheid)',
  overdrachten: 'Overdracht tussen werkcoach en participatiecoach',
  leefgebieden: 'Leefgebieden (Dariuz)',
  boetes: 'Boetes',
  schuldhulptrajecten: 'Schuldhulpverlening',
  contactmomenten: 'Contactmomenten',
};
const READ_ACTIONS: ReadonlySet<string> = new Set(['record.read', 'document.read', 'caseload.read']);

/** The categories a set of released field paths falls into. */
export function dataCategories(released: readonly string[]): string[] {
  const sections = new Set(released.map((f) => f.split(/[.[]/, 1)[0]!));
  return [...sections].map((s) => CATEGORIES[s] ?? s).sort();
}

const lineSchema = z.object({ seq: z.number(), at: z.string(), action: z.string(), outcome: z.string(), chainHash: z.string(), entry: z.record(z.string(), z.unknown()).nullable() });
const accessSchema = z.object({
  datum: z.string(),
  organisatie: z.string(),
  rol: z.string(),
  doel: z.string(),
  verwerkingsactiviteit: z.string(),
  gegevenscategorieen: z.array(z.string()),
});

/**
 * The privacy officer's reading routes (`toezicht` token): the audit log, its verification, and a citizen's access
 * report. Reading the log is itself logged. A municipal officer sees the lines of their own organisation's staff; a
 * Werkzaak officer sees all.
 */
export function auditRoutes(deps: AppDeps) {
  const { audit, clock } = deps;

  /** Only `toezicht` reads the log; a refusal is a line like any other. */
  function requireToezicht(c: Context<HonoEnv>, action: 'audit.read' | 'access-report.read' = 'audit.read', clientRef?: string): void {
    const requester = c.get('requester');
    if (requester.purpose === 'toezicht' && requester.role === 'privacy-officer') return;
    audit.run(() => audit.append(line(c, { outcome: 'deny', reason: 'PURPOSE_NOT_FOR_ROUTE', httpStatus: 403, clientRef }, action)));
    throw new DoelpoortError('PURPOSE_NOT_ALLOWED', 'reading the audit log needs a toezicht token');
  }

  function line(c: Context<HonoEnv>, facts: { outcome: AuditEntry['outcome']; reason: string; httpStatus: number; clientRef?: string | undefined }, action: 'audit.read' | 'access-report.read' = 'audit.read'): AuditEntry {
    return { action, ...requesterFacts(c), ...facts };
  }

  const scope = (c: Context<HonoEnv>) => {
    const org = c.get('requester').org;
    return org === 'WERKZAAK' ? {} : { actorOrg: org };
  };

  const toJson = (l: AuditLine) => ({ seq: l.seq, at: new Date(l.at).toISOString(), action: l.action, outcome: l.outcome, chainHash: l.chainHash, entry: l.entry ?? null });

  return new Hono<HonoEnv>()
    .get('/audit', (c) => {
      requireToezicht(c);
      const query = parseInput(auditQuerySchema, c.req.query(), 'query');
      const page = audit.run(() => {
        const p = audit.list({ ...query, ...scope(c) });
        audit.append(line(c, { outcome: 'permit', reason: 'AUDIT_LISTED', httpStatus: 200, clientRef: query.clientRef }));
        return p;
      });
      return c.json({ items: page.items.map(toJson), next: page.next }, 200, { 'cache-control': 'no-store' });
    })
    .get('/audit/verify', async (c) => {
      requireToezicht(c);
      parseInput(noQuery, c.req.query(), 'query');
      const result = await audit.verifyAsync();
      audit.run(() => audit.append(line(c, { outcome: 'permit', reason: result.ok ? 'AUDIT_VERIFIED' : 'AUDIT_BROKEN', httpStatus: 200 })));
      return c.json(result, 200, { 'cache-control': 'no-store' });
    })
    .get('/clients/:clientRef/access-report', async (c) => {
      // A malformed reference (a BSN, say) is refused and logged without it.
      const { clientRef } = await parseInputLogged(clientParams, c.req.param(), 'path', () =>
        audit.appendDurable(line(c, { outcome: 'deny', reason: 'CLIENT_REF_INVALID', httpStatus: 400 }, 'access-report.read')),
      );
      requireToezicht(c, 'access-report.read', clientRef);
      parseInput(noQuery, c.req.query(), 'query');
      // A municipal officer's report covers their own organisation's accesses only, so it says nothing of other
      // organisations' (not even that there are any), and nothing of whether the client exists: an unknown client and
      // one their organisation never consulted get the same empty report.
      const scoped = scope(c);
      const accesses = await audit.runDurable(() => {
        const found: Array<z.infer<typeof accessSchema>> = [];
        let cursor: string | undefined;
        do {
          const page = audit.list({ clientRef, outcome: 'permit', limit: 1000, cursor, ...scoped });
          for (const l of page.items) {
            const e = l.entry;
            // Only reads that released data are consultations; pruned lines have no content left to report.
            if (!e || !READ_ACTIONS.has(e.action) || !e.actor || !e.purpose || !e.released?.length) continue;
            found.push({
              datum: new Date(l.at).toISOString().slice(0, 10),
              organisatie: e.actor.org,
              rol: e.actor.role,
              doel: e.purpose,
              verwerkingsactiviteit: PURPOSES[e.purpose].processingActivityId,
              gegevenscategorieen: dataCategories(e.released),
            });
          }
          cursor = page.next ?? undefined;
        } while (cursor);
        audit.append(line(c, { outcome: 'permit', reason: 'ACCESS_REPORT', httpStatus: 200, clientRef }, 'access-report.read'));
        return found;
      });
      const reikwijdte = scoped.actorOrg ?? 'alle';
      return c.json({ clientRef, opgesteld: new Date(clock.now()).toISOString(), reikwijdte, raadplegingen: accesses }, 200, { 'cache-control': 'no-store' });
    });
}

/** The published description of the audit routes. */
export const auditOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/audit',
    operationId: 'listAudit',
    summary: 'Audit lines, newest first, filtered and paginated (toezicht)',
    tags: ['audit'],
    security: 'bearer',
    query: auditQuerySchema,
    responses: {
      200: { description: 'One page of lines', schema: z.object({ items: z.array(lineSchema), next: z.string().nullable() }) },
      400: { description: 'An invalid filter', schema: problemSchema, contentType: 'application/problem+json' },
      ...protectedProblems,
    },
  },
  {
    method: 'get',
    path: '/v1/audit/verify',
    operationId: 'verifyAudit',
    summary: 'Recomputes the hash chain and checks the signed checkpoints (toezicht)',
    tags: ['audit'],
    security: 'bearer',
    query: noQuery,
    responses: {
      200: {
        description: '{ ok: true, records, head } or { ok: false, records, firstBad }; `witness` says whether a witness directory is configured and which of its checkpoints was compared',
        schema: z.object({
          ok: z.boolean(),
          records: z.number(),
          head: z.string().optional(),
          checkpoints: z.number().optional(),
          firstBad: z.object({ seq: z.number(), reason: z.string() }).optional(),
          witness: z.object({ configured: z.boolean(), checkpoint: z.object({ size: z.number(), head: z.string(), at: z.number() }).nullable().optional() }),
        }),
      },
      ...protectedProblems,
    },
  },
  {
    method: 'get',
    path: '/v1/clients/{clientRef}/access-report',
    operationId: 'accessReport',
    summary: 'For a citizen’s access request (AVG art. 15): when, which organisation and role, which purpose, which data categories; no staff names',
    tags: ['audit'],
    security: 'bearer',
    params: clientParams,
    query: noQuery,
    responses: {
      200: {
        description: 'The consultations of this client’s data: by the officer’s own organisation, or by all for a Werkzaak officer',
        schema: z.object({
          clientRef: z.string(),
          opgesteld: z.string(),
          reikwijdte: z.string().meta({ description: '`alle`, or the organisation whose accesses the report covers' }),
          raadplegingen: z.array(accessSchema),
        }),
      },
      400: { description: 'A malformed clientRef (refused and logged without it)', schema: problemSchema, contentType: 'application/problem+json' },
      ...protectedProblems,
    },
  },
];
