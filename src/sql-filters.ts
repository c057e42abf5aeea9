/**
 * Statements built from a whitelist of filters (the audit list, the emergency-access queue) are written once for both
 * databases: the filter code asks `bind` for each value's placeholder, and only the placeholders, never a value, go
 * into the text. SQLite names them (`@name`, so the text of one combination of filters is one prepared statement);
 * PostgreSQL numbers them (`$1`, `$2`, … in the order asked).
 */
export type Bind = (name: string, value: unknown) => string;

/** Named parameters for better-sqlite3. */
export function sqliteParams(): { bind: Bind; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  return {
    params,
    bind: (name, value) => {
      params[name] = value;
      return `@${name}`;
    },
  };
}

/** Numbered parameters for node-postgres. */
export function pgParams(): { bind: Bind; values: unknown[] } {
  const values: unknown[] = [];
  return {
    values,
    bind: (_name, value) => {
      values.push(value);
      return `$${values.length}`;
    },
  };
}
