import fs from 'node:fs';
import { loadPolicyDirectory } from './src/policy/load.ts';
import { loadExpectations, runExpectations, unmatchedRules } from './src/policy/expectations.ts';
const set = loadPolicyDirectory('policies');
const fixtures = fs.readFileSync('test/fixtures/suite-export.example.ndjson','utf8').trim().split('\n').map(l=>JSON.parse(l));
try {
const res = runExpectations(set, loadExpectations('policies/tests'), fixtures);
for (const r of res) if (r.failures.length) console.log(r.file, r.name, r.failures);
console.log(res.length, 'unmatched', unmatchedRules(set, res).map(r=>r.source));
} catch (e: any) { console.log(e.problems ?? e) }
