/** JSON with object keys sorted at every level and no whitespace: one byte string per value, so hashes are reproducible. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  let out = '{';
  // Default sort compares UTF-16 code units, the same order on every platform.
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined) continue;
    out += `${(out.length > 1 ? ',' : '') + JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}
