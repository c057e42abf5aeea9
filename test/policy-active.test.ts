import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { openDatabase } from '../src/db.js';
import { DoelpoortError } from '../src/errors.js';
import { ActivePolicy } from '../src/policy/active.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { PolicyVersions } from '../src/policy/versions.js';
import { TODAY, tempDir } from './support.js';

describe(ActivePolicy.name, () => {
  it('stores the policies directory as version 1 with the same version string the engine computes', () => {
    const versions = new PolicyVersions(openDatabase(':memory:'), fixedClock(`${TODAY}T10:00:00Z`));
    const active = ActivePolicy.bootstrap(versions, 'policies');
    expect(active.version.id).toBe(1);
    expect(active.set.version).toBe(loadPolicyDirectory('policies').version);
    expect(active.version.hash).toBe(active.set.version);
  });

  it('uses the database on later starts, whatever the directory holds', () => {
    const db = openDatabase(':memory:');
    const versions = new PolicyVersions(db, fixedClock(`${TODAY}T10:00:00Z`));
    ActivePolicy.bootstrap(versions, 'policies');
    expect(ActivePolicy.bootstrap(versions, tempDir()).version.id).toBe(1);
  });

  it('refuses to start on an empty or invalid policies directory when the database has none', () => {
    const versions = new PolicyVersions(openDatabase(':memory:'), fixedClock(`${TODAY}T10:00:00Z`));
    expect(() => ActivePolicy.bootstrap(versions, tempDir())).toThrow(DoelpoortError);
  });
});
