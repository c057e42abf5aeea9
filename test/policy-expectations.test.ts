import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExpectations, runExpectations, unmatchedRules } from '../src/policy/expectations.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { POLICIES_DIR, fixtureRecords } from './policy-support.js';

describe("policies/tests: the privacy officers' expectations", () => {
  const set = loadPolicyDirectory(POLICIES_DIR);
  const results = runExpectations(set, loadExpectations(path.join(POLICIES_DIR, 'tests')), fixtureRecords());

  for (const result of results) {
    it(`${result.file}: ${result.name}`, () => {
      expect(result.failures).toEqual([]);
    });
  }

  it('shows every rule firing in at least one expectation', () => {
    expect(unmatchedRules(set, results).map((r) => r.source)).toEqual([]);
  });
});
