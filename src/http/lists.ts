import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Caller } from '../caller.js';
import { readLine, type ClientReading } from '../clients/decision.js';
import { MAX_LIST_LIMIT, readInbox } from '../clients/lists.js';
import { clientRefSchema } from '../records/suite-record.js';
import type { DenyLine } from '../unit-of-work.js';
import { requesterFacts } from './context.js';
import type { AppDeps } from './deps.js';
import type { HonoEnv } from './env.js';
import { problemSchema, protectedProblems, type Operation } from './openapi.js';
import { parseAudited } from './validate.js';

/** The query of every list: the previous page's `next`, and the page size. Unknown parameters are refused. */
export const listQuery = z.strictObject({
  cursor: clientRefSchema.optional().meta({ description: 'The `next` of the previous page (opaque)' }),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(20),
});

const next = z.string().nullable().meta({ description: 'Cursor of the next page; null on the last' });
const naam = z.string().optional().meta({ description: 'voornamen and achternaam, as far as released' });

const inboxItemSchema = z
  .strictObject({
    clientRef: z.string(),
    naam,
    overdracht: z
      .strictObject({
        id: z.string().optional(),
        datum: z.string().optional(),
        status: z.enum(['aangevraagd', 'afgerond', 'afgewezen']).optional(),
        onderbouwing: z.enum(['onderzoek-zorgprofessional', 'deeltijdwerk', 'vrijwilligerswerk']).nullable().optional(),
        driegesprekGewenst: z.boolean().nullable().optional(),
      })
      .optional()
      .meta({ description: 'The handover that puts the client in the inbox, its fields as far as released' }),
  })
  .meta({ id: 'InboxItem' });

/** The handover inbox as it leaves (published, and checked against the answers in the tests). */
export const inboxSchema = z
  .strictObject({ purpose: z.enum(['overdracht-kp4', 'overdracht-kp3']), items: z.array(inboxItemSchema), next })
  .meta({ id: 'Inbox' });

/** The KP4 clients as they leave. */
export const kp4ListSchema = z
  .strictObject({
    purpose: z.literal('begeleiding-kp4'),
    items: z.array(
      z
        .strictObject({
          clientRef: z.string(),
          naam,
          klantprofiel: z.strictObject({ vanaf: z.string() }).optional().meta({ description: 'Since when the client is KP4, when released' }),
        })
        .meta({ id: 'Kp4Client' }),
    ),
    next,
  })
  .meta({ id: 'Kp4Clients' });

/**
 * The handover inbox (`GET /v1/overdrachten`): validate the query, call `readInbox` (src/clients/lists.ts), answer.
 * The verb checks the token, decides on every listed client and writes one line each before anything leaves.
 */
export function overdrachtRoutes(deps: AppDeps, reading: ClientReading) {
  const { uow, policies } = deps;
  const refused = (c: Context<HonoEnv>) => (): DenyLine => readLine('list.read', requesterFacts(c), undefined, policies.set.version);
  return new Hono<HonoEnv>().get('/', async (c) => {
    const page = await parseAudited(uow, refused(c), listQuery, c.req.query(), 'query');
    const asking: Caller = { requester: c.get('requester'), facts: requesterFacts(c) };
    const { items, next } = await readInbox(uow, reading, asking, page);
    return c.json({ purpose: c.get('requester').purpose, items, next }, 200, { 'cache-control': 'no-store' });
  });
}

/** The published description of the handover inbox. */
export const overdrachtOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/overdrachten',
    operationId: 'listOverdrachten',
    summary:
      'The handover inbox: with an overdracht-kp4 or overdracht-kp3 token without a client, the open handovers to the requester’s organisation in that purpose’s direction, newest first, one client each with minimal fields',
    tags: ['clients'],
    security: 'bearer',
    query: listQuery,
    responses: {
      200: { description: 'One page of the inbox', schema: inboxSchema },
      400: {
        description: 'An invalid query parameter, or a cursor whose client has left the inbox',
        schema: problemSchema,
        contentType: 'application/problem+json',
      },
      ...protectedProblems,
    },
  },
];
