import { bigint, customType } from 'drizzle-orm/pg-core';

/** SQLite's `blob` as PostgreSQL's `bytea`, read and written as a Buffer (node-postgres returns bytea as one). */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

/**
 * SQLite's `integer` holding epoch milliseconds, a sequence number or a row id: `bigint`, as a JS number (every value
 * stored is below 2^53; src/postgres.ts sets node-postgres's INT8 parser to match).
 */
export const int8 = (name: string) => bigint(name, { mode: 'number' });
