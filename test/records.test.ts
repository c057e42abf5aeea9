import fs from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../src/clock.js';
import { openRecordsDatabase } from '../src/db.js';
import { DoelpoortError } from '../src/errors.js';
import { generateSuiteExport } from '../src/records/generate.js';
import { importSuiteExport } from '../src/records/import.js';
import { RecordStore } from '../src/records/store.js';
import { isValidBsn, suiteRecordSchema, type SuiteRecord } from '../src/records/suite-record.js';
import { decide } from '../src/policy/decide.js';
import { loadPolicyDirectory } from '../src/policy/load.js';
import { TODAY } from './support.js';
import { EXAMPLE_EXPORT_FILE } from '../src/demo.js';

const fixture = fs.readFileSync(EXAMPLE_EXPORT_FILE, 'utf8');
const fixtureLines = fixture.trim().split('\n');
const anna = JSON.parse(fixtureLines[0]!) as SuiteRecord;

function setup() {
  const store = new RecordStore(openRecordsDatabase(':memory:'));
  const clock = fixedClock(`${TODAY}T10:00:00Z`);
  const run = (text: string) => importSuiteExport(store, Readable.from([text]), { clock });
  /** Every row of the store, to show a failed import changed nothing. */
  const snapshot = () => store.db.$client.prepare('SELECT * FROM clients ORDER BY client_ref').all();
  return { store, run, snapshot };
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DoelpoortError);
  expect((error as DoelpoortError).code).toBe('IMPORT_INVALID');
  return (error as DoelpoortError).problems.map((p) => `${p.path}: ${p.message}`);
}

const withLine = (n: number, line: string) => `${fixtureLines.map((l, i) => (i === n - 1 ? line : l)).join('\n')}\n`;
const mutate = (f: (r: Record<string, any>) => void) => {
  const r = structuredClone(anna) as Record<string, any>;
  f(r);
  return JSON.stringify(r);
};

describe('importSuiteExport', () => {
  it('imports the example export and reads each record back whole', async () => {
    const { store, run } = setup();
    const summary = await run(fixture);
    expect(summary).toMatchObject({ lines: 6, imported: 6, replaced: 0 });
    expect(store.count()).toBe(6);
    expect(store.get('WZR-100001')).toEqual(anna);
    expect(store.clientRefByBsn(anna.bsn)).toBe('WZR-100001');
    expect(store.get('WZR-999999')).toBeUndefined();
  });

  it('replaces a client whole on a later export, projections included', async () => {
    const { store, run } = setup();
    const handoversTo = (org: string, status: string) =>
      store.db.$client
        .prepare<[string, string], { clientRef: string }>('SELECT client_ref AS clientRef FROM overdrachten WHERE naar_organisatie = ? AND status = ?')
        .all(org, status);
    await run(fixture);
    expect(handoversTo('GM1960', 'aangevraagd').map((h) => h.clientRef)).toContain('WZR-100001');
    const later = mutate((r) => {
      r.overdrachten[0].status = 'afgerond';
      delete r.boetes;
    });
    const summary = await run(`${later}\n`);
    expect(summary).toMatchObject({ imported: 1, replaced: 1 });
    expect(store.count()).toBe(6);
    expect(store.get('WZR-100001')!.boetes).toBeUndefined();
    expect(handoversTo('GM1960', 'aangevraagd').map((h) => h.clientRef)).not.toContain('WZR-100001');
    expect(handoversTo('GM1960', 'afgerond').map((h) => h.clientRef)).toContain('WZR-100001');
  });

  const badLines: Array<[string, string, RegExp]> = [
    ['a BSN failing the elfproef', mutate((r) => (r.bsn = '123456789')), /^line 3: bsn: must be nine digits passing the elfproef$/],
    ['an unknown key', mutate((r) => (r.persoon.geboortdatum = '1968-04-12')), /^line 3: persoon: unknown key\(s\) geboortdatum$/],
    ['an impossible date', mutate((r) => (r.persoon.geboortedatum = '1968-02-30')), /^line 3: persoon.geboortedatum: must be a date YYYY-MM-DD$/],
    [
      'a value outside its enum',
      mutate((r) => (r.overdrachten[0].richting = 'KP3-KP5')),
      /^line 3: overdrachten\[0\].richting: must be one of KP3-KP4, KP4-KP3$/,
    ],
    ['a duplicate id', mutate((r) => (r.contactmomenten[1].id = 'CM-1')), /^line 3: contactmomenten\[1\].id: duplicate id within this client$/],
    [
      'an amount with three decimals',
      mutate((r) => (r.uitkering.nettoBedragMaand = 1350.255)),
      /^line 3: uitkering.nettoBedragMaand: must have at most two decimals$/,
    ],
    ['a missing required field', mutate((r) => delete r.persoon.achternaam), /^line 3: persoon.achternaam: is required$/],
    ['malformed JSON', '{"clientRef": "WZR-1", "bsn": ', /^line 3: not valid JSON/],
  ];

  it.each(badLines)('rejects %s, names the line, and leaves the store as it was', async (_, line, expected) => {
    const { run, snapshot } = setup();
    await run(`${fixtureLines.slice(3).join('\n')}\n`);
    const before = snapshot();
    const problems = await problemsOf(run(withLine(3, line)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
    expect(snapshot()).toEqual(before);
  });

  it('accepts a byte-order mark before the first line, CRLF line ends, and null for an absent section', async () => {
    const { store, run } = setup();
    const nulls = mutate((r) => ((r.fraudeonderzoeken = null), (r.boetes = null), (r.uitkering.inhoudingen = null)));
    await run(`\uFEFF${[nulls, ...fixtureLines.slice(1)].join('\r\n')}\r\n`);
    expect(store.count()).toBe(6);
    const record = store.get('WZR-100001')!;
    expect(record.fraudeonderzoeken).toBeNull();
    const decision = decide(loadPolicyDirectory('policies'), { role: 'participatiecoach', org: 'GM1960', purpose: 'overdracht-kp4' }, record, { today: TODAY });
    expect(decision.allowed).toBe(true);
    expect(decision.view.boetes).toBeUndefined();
  });

  it('never prints the offending value', async () => {
    const { run } = setup();
    const problems = await problemsOf(
      run(
        withLine(
          1,
          mutate((r) => ((r.bsn = '999999999'), (r.persoon.geboortedatum = 'geheim-1968'))),
        ),
      ),
    );
    const text = problems.join('\n');
    expect(text).toContain('line 1: bsn');
    expect(text).not.toContain('999999999');
    expect(text).not.toContain('geheim');
  });

  it('reports every problem of the file, not just the first', async () => {
    const { run } = setup();
    const text = [mutate((r) => (r.bsn = '1')), fixtureLines[1], '{', mutate((r) => ((r.clientRef = 'WZR-100009'), (r.persoon.gemeente = 'Tiel')))].join('\n');
    const problems = await problemsOf(run(text));
    expect(problems.map((p) => p.split(':')[0])).toEqual(['line 1', 'line 3', 'line 4']);
  });

  it('rejects an empty file', async () => {
    const { run, store } = setup();
    expect(await problemsOf(run(''))).toEqual(['line 1: the file holds no records']);
    expect(await problemsOf(run('\n\n'))).toHaveLength(1);
    expect(store.count()).toBe(0);
  });

  it('rejects a truncated last line and imports nothing before it', async () => {
    const { run, store } = setup();
    const truncated = fixture.trimEnd().slice(0, -40);
    const problems = await problemsOf(run(truncated));
    expect(problems).toEqual([expect.stringMatching(/^line 6: not valid JSON/)]);
    expect(store.count()).toBe(0);
  });

  it('rejects the same client twice in one file, and a BSN that belongs to another client', async () => {
    const { run, store } = setup();
    expect(await problemsOf(run(`${fixtureLines[0]}\n${fixtureLines[0]}\n`))).toEqual(['line 2: clientRef: the same client already appears on line 1']);
    await run(fixture);
    const stolen = mutate((r) => (r.clientRef = 'WZR-100077'));
    expect(await problemsOf(run(stolen))).toEqual(['line 1: bsn: this BSN already belongs to another client']);
    expect(store.count()).toBe(6);
  });
});

describe('RecordStore', () => {
  it('knows whether it holds only demo records: a Suite export, or a failed demo import, is not demo data', async () => {
    const { store } = setup();
    const clock = fixedClock(`${TODAY}T10:00:00Z`);
    expect(store.holdsOnlyDemoRecords()).toBe(true); // empty
    await importSuiteExport(store, Readable.from([fixture]), { clock, origin: 'demo' });
    expect(store.holdsOnlyDemoRecords()).toBe(true);
    await expect(importSuiteExport(store, Readable.from(['{}\n']), { clock })).rejects.toThrow(DoelpoortError);
    expect(store.holdsOnlyDemoRecords()).toBe(true); // a rolled-back import leaves no trace
    await importSuiteExport(store, Readable.from([`${fixtureLines[0]!}\n`]), { clock });
    expect(store.holdsOnlyDemoRecords()).toBe(false);
  });

  it('takes records it holds without any import noted for real ones', () => {
    const { store } = setup();
    store.replace(anna, Date.parse(`${TODAY}T10:00:00Z`));
    expect(store.holdsOnlyDemoRecords()).toBe(false);
  });

  it('answers the caseload from the indexed projection, paginated, active trajectories only', async () => {
    const store = new RecordStore(openRecordsDatabase(':memory:'));
    const base = anna;
    const withTraject = (ref: string, bsn: string, gemeente: string, vanaf: string, tot: string | null): SuiteRecord => ({
      ...base,
      clientRef: ref,
      bsn,
      schuldhulptrajecten: [{ id: 'SH-1', gemeente, vanaf, tot }],
    });
    const bsns = ['100000009', '100000010', '100000022', '100000034'].filter(isValidBsn);
    expect(bsns).toHaveLength(4);
    store.replace(withTraject('WZR-3', bsns[0]!, 'GM0281', '2026-01-01', null), 0);
    store.replace(withTraject('WZR-1', bsns[1]!, 'GM0281', '2025-01-01', '2027-01-01'), 0);
    store.replace(withTraject('WZR-2', bsns[2]!, 'GM0281', '2025-01-01', '2025-06-30'), 0); // ended
    store.replace(withTraject('WZR-4', bsns[3]!, 'GM0297', '2026-01-01', null), 0); // other municipality
    const first = store.caseload('GM0281', TODAY, { limit: 1 });
    expect(first).toEqual({ items: ['WZR-1'], next: 'WZR-1' });
    expect(store.caseload('GM0281', TODAY, { limit: 1, after: first.next! })).toEqual({ items: ['WZR-3'], next: null });
    const plan = store.db.$client
      .prepare("EXPLAIN QUERY PLAN SELECT client_ref FROM schuldhulptrajecten WHERE gemeente = 'GM0281' AND client_ref > ''")
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX schuldhulptrajecten_gemeente/);
  });

  it('looks up handovers and BSNs by index, not by scan', () => {
    const store = new RecordStore(openRecordsDatabase(':memory:'));
    const plan = (sql: string) => (store.db.$client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((p) => p.detail).join(' ');
    expect(plan("SELECT client_ref FROM overdrachten WHERE naar_organisatie = 'GM1960' AND richting = 'KP3-KP4' AND status = 'aangevraagd'")).toMatch(
      /INDEX overdrachten_inbox \(naar_organisatie=\? AND richting=\? AND status=\?\)/,
    );
    expect(plan("SELECT client_ref FROM clients WHERE bsn = '111222333'")).toMatch(/INDEX clients_bsn_unique/);
    expect(plan("SELECT record FROM clients WHERE client_ref = 'WZR-1'")).toMatch(/INDEX sqlite_autoindex_clients_1|PRIMARY KEY/);
  });
});

describe('generateSuiteExport', () => {
  const generate = (clients: number, seed: number) => [...generateSuiteExport({ clients, seed, today: TODAY })];

  it('is deterministic for a seed and differs between seeds', () => {
    expect(JSON.stringify(generate(50, 3))).toBe(JSON.stringify(generate(50, 3)));
    expect(JSON.stringify(generate(50, 3))).not.toBe(JSON.stringify(generate(50, 4)));
  });

  it('produces valid records with unique refs and BSNs, which import cleanly', async () => {
    const records = generate(1000, 11);
    for (const r of records) expect(suiteRecordSchema.safeParse(r).success).toBe(true);
    expect(new Set(records.map((r) => r.clientRef)).size).toBe(1000);
    expect(new Set(records.map((r) => r.bsn)).size).toBe(1000);
    const store = new RecordStore(openRecordsDatabase(':memory:'));
    const text = records.map((r) => JSON.stringify(r)).join('\n');
    const summary = await importSuiteExport(store, Readable.from([text]), { clock: fixedClock(`${TODAY}T00:00:00Z`) });
    expect(summary.imported).toBe(1000);
    // The example export's clients can live beside generated ones.
    await importSuiteExport(store, Readable.from([fixture]), { clock: fixedClock(`${TODAY}T00:00:00Z`) });
    expect(store.count()).toBe(1006);
  });

  it('covers every case of domain.md', () => {
    const records = generate(500, 1);
    const some = (p: (r: SuiteRecord) => boolean) => records.some(p);
    const handover = (p: (o: NonNullable<SuiteRecord['overdrachten']>[number]) => boolean) => some((r) => (r.overdrachten ?? []).some(p));
    expect(new Set(records.map((r) => r.persoon.gemeente)).size).toBe(8);
    for (const richting of ['KP3-KP4', 'KP4-KP3'] as const) expect(handover((o) => o.richting === richting)).toBe(true);
    for (const status of ['aangevraagd', 'afgerond', 'afgewezen'] as const) expect(handover((o) => o.status === status)).toBe(true);
    expect(handover((o) => o.bezwaarTegenDelen)).toBe(true);
    expect(handover((o) => !o.clientGeinformeerd)).toBe(true);
    expect(some((r) => (r.schuldhulptrajecten ?? []).some((t) => t.tot === null))).toBe(true);
    expect(some((r) => (r.schuldhulptrajecten ?? []).some((t) => t.tot != null && t.tot < TODAY))).toBe(true);
    for (const status of ['overwogen', 'opgelegd'] as const) expect(some((r) => (r.boetes ?? []).some((b) => b.status === status))).toBe(true);
    expect(some((r) => (r.fraudeonderzoeken ?? []).length > 0)).toBe(true);
    for (const soort of ['tijdelijk', 'duurzaam'] as const) expect(some((r) => (r.ontheffingen ?? []).some((o) => o.soort === soort))).toBe(true);
    const assessmentFields = [
      'datum',
      'uitvoerder',
      'arbeidsvermogen',
      'urenPerDag',
      'urenPerWeek',
      'functioneleBeperkingen',
      'prognose',
      'advies',
      'diagnose',
      'behandeling',
      'medicatie',
      'medischeToelichting',
    ];
    expect(some((r) => (r.belastbaarheidsonderzoeken ?? []).some((b) => assessmentFields.every((f) => f in b)))).toBe(true);
    expect(some((r) => (r.leefgebieden ?? []).some((l) => l.domein === 'justitie'))).toBe(true);
    for (const categorie of ['overdracht', 'regulier', 'handhaving'] as const)
      expect(some((r) => (r.contactmomenten ?? []).some((c) => c.categorie === categorie))).toBe(true);
  });
});
