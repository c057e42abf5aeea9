import { defineConfig } from 'drizzle-kit';

/** PostgreSQL (`DOELPOORT_DATABASE_URL`): state and Suite copy in one database, one migration folder. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/pg/index.ts',
  out: './schema/pg-migrations',
});
