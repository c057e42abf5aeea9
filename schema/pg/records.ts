import { index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { int8 } from './types.js';

/**
 * The Suite copy (schema/records.ts, SQLite's records.db): in PostgreSQL the same database as the state, written
 * only by import. The whole record as JSON text (not jsonb: it is stored and returned as the export gave it).
 */
export const clients = pgTable(
  'clients',
  {
    clientRef: text('client_ref').primaryKey(),
    bsn: text('bsn').notNull().unique('clients_bsn_unique'),
    gemeente: text('gemeente').notNull(),
    record: text('record').notNull(),
    importedAt: int8('imported_at').notNull(),
  },
  (t) => [index('clients_gemeente').on(t.gemeente)],
);

export const overdrachten = pgTable(
  'overdrachten',
  {
    clientRef: text('client_ref').notNull(),
    id: text('id').notNull(),
    richting: text('richting').notNull(),
    status: text('status').notNull(),
    datum: text('datum').notNull(),
    naarOrganisatie: text('naar_organisatie').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clientRef, t.id] }), index('overdrachten_inbox').on(t.naarOrganisatie, t.richting, t.status, t.datum)],
);

export const schuldhulptrajecten = pgTable(
  'schuldhulptrajecten',
  {
    clientRef: text('client_ref').notNull(),
    id: text('id').notNull(),
    gemeente: text('gemeente').notNull(),
    vanaf: text('vanaf').notNull(),
    tot: text('tot'),
  },
  (t) => [primaryKey({ columns: [t.clientRef, t.id] }), index('schuldhulptrajecten_gemeente').on(t.gemeente, t.clientRef)],
);

export const klantprofielen = pgTable(
  'klantprofielen',
  {
    clientRef: text('client_ref').notNull(),
    n: integer('n').notNull(),
    profiel: text('profiel').notNull(),
    vanaf: text('vanaf').notNull(),
    tot: text('tot'),
    gemeente: text('gemeente').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clientRef, t.n] }), index('klantprofielen_gemeente').on(t.gemeente, t.profiel, t.clientRef)],
);

export const imports = pgTable('imports', {
  id: int8('id').primaryKey().generatedByDefaultAsIdentity(),
  at: int8('at').notNull(),
  origin: text('origin', { enum: ['export', 'demo'] }).notNull(),
  lines: integer('lines').notNull(),
  clients: integer('clients').notNull(),
});
