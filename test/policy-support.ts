import fs from 'node:fs';
import path from 'node:path';
import { suiteRecordSchema, type SuiteRecord } from '../src/records/suite-record.js';
import { tempDir } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

/** The default policy directory of the checkout. */
export const POLICIES_DIR = path.join(import.meta.dirname, '..', 'policies');

/** The example Suite export's clients. */
export function fixtureRecords(): SuiteRecord[] {
  const text = fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => suiteRecordSchema.parse(JSON.parse(l)));
}

let base: string | undefined;

/** A fresh policy directory holding `files` (name → text). */
export function policyDir(files: Record<string, string>): string {
  base ??= tempDir('doelpoort-policy-');
  const dir = fs.mkdtempSync(path.join(base, 'set-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}
