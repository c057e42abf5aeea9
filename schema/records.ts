import { sqliteTable, text, integer, primaryKey, index } from 'drizzle-orm/sqlite-core';

/**
 * doelpoort's copy of the Suite records. A client's record is stored whole, as the export delivered it (one indexed
 * read serves a request, and a re-import replaces it whole); the questions asked across clients are answered by
 * small projection tables with their own indexes, rewritten with the record in the same transaction.
 */
export const clients = sqliteTable(
  'clients',
  {
    clientRef: text('client_ref').primaryKey(),
    /** Lookup key for the debt counsellor's BSN query; never released by the API. */
    bsn: text('bsn').notNull().unique(),
    /** CBS code of the municipality of residence (persoon.gemeente). */
    gemeente: text('gemeente').notNull(),
    /** The validated Suite record as JSON text. */
    record: text('record').notNull(),
    importedAt: integer('imported_at').notNull(),
  },
  (t) => [index('clients_gemeente').on(t.gemeente)],
);

/**
 * Projection: every handover, for the inbox: "handovers to organisation X in direction D with status S, newest first"
 * (src/records/store.ts, `inbox`).
 */
export const overdrachten = sqliteTable(
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

/** Projection: every debt-counselling trajectory, for "active trajectories with municipality X" (the caseload). */
export const schuldhulptrajecten = sqliteTable(
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

/**
 * Projection: every klantprofiel, at its place `n` in the record's list, with the client's municipality of residence
 * (persoon.gemeente), for "clients living in X whose current klantprofiel is KP4" (the participatiecoach's KP4 list).
 */
export const klantprofielen = sqliteTable(
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

/**
 * Every import that committed, and where its records came from: `export` (a Suite export through `doelpoort import`)
 * or `demo` (the synthetic records demo mode seeds). Demo mode refuses a store that holds anything but demo records.
 */
export const imports = sqliteTable('imports', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at').notNull(),
  origin: text('origin', { enum: ['export', 'demo'] }).notNull(),
  lines: integer('lines').notNull(),
  clients: integer('clients').notNull(),
});
