import { defineConfig } from 'drizzle-kit';

/** The Suite copy (`records.db`): its own file, its own migrations. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './schema/records.ts',
  out: './schema/records-migrations',
});
