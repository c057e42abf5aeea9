import { RIVIERENLAND } from './records/generate.js';

/** Werkzaak's organisation code (claim `org`), beside the CBS codes of the municipalities. */
export const WERKZAAK = 'WERKZAAK';

const NAMES: ReadonlyMap<string, string> = new Map<string, string>([
  [WERKZAAK, 'Werkzaak Rivierenland'],
  ...RIVIERENLAND.map((g) => [g.code, g.naam] as const),
]);

/** The name a person knows an organisation by (`GM1960` → `West Betuwe`); an unknown code is shown as it is. */
export function organisationName(code: string): string {
  return NAMES.get(code) ?? code;
}

/** Every organisation of the region, Werkzaak first, then the municipalities by name. */
export const ORGANISATIONS: ReadonlyArray<{ code: string; name: string }> = [
  { code: WERKZAAK, name: NAMES.get(WERKZAAK)! },
  ...[...RIVIERENLAND].sort((a, b) => a.naam.localeCompare(b.naam, 'nl')).map((g) => ({ code: g.code, name: g.naam })),
];
