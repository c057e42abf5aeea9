import { organisationName, WERKZAAK } from '../organisations.js';
import type { Role } from '../purposes.js';
import { RIVIERENLAND } from '../records/generate.js';
import { ROLE_LABELS } from '../web/layout.js';

/** A person the demo identity provider can log in: what its ID token says, and the button that picks it. */
export interface DemoAccount {
  /** Stable and readable: `demo-participatiecoach-gm1960`. */
  sub: string;
  role: Role;
  org: string;
  name: string;
  /** The button's text: role and organisation, "Participatiecoach — West Betuwe". */
  label: string;
}

/** Invented names, handed out in order, so that every account has the same one on every start. */
const NAMES = [
  'Sanne de Vries',
  'Daan Jansen',
  'Fatima El Amrani',
  'Lars van Dijk',
  'Eva Bakker',
  'Mehmet Yilmaz',
  'Noor Visser',
  'Thijs Smit',
  'Lotte Meijer',
  'Jeroen de Boer',
  'Yara Mulder',
  'Bram de Groot',
  'Iris Bos',
  'Sem Vos',
  'Femke Peters',
  'Ruben Hendriks',
  'Anouk van Leeuwen',
  'Kees Dekker',
  'Maud Brouwer',
  'Stijn de Wit',
  'Julia Dijkstra',
  'Tim Smits',
];

/** One account; `second` distinguishes a second person with the same role and organisation. */
function account(role: Role, org: string, index: number, second = false): DemoAccount {
  const base = `demo-${role}-${org.toLowerCase()}`;
  const label = `${ROLE_LABELS[role]} — ${organisationName(org)}`;
  return { sub: second ? `${base}-2` : base, role, org, name: NAMES[index % NAMES.length]!, label: second ? `${label} (tweede)` : label };
}

/**
 * The demo accounts, grouped by organisation (Werkzaak first, then the municipalities by name): a werkcoach and two
 * privacy officers of Werkzaak (two, so that one can approve what the other proposed), a participatiecoach and a
 * schuldhulpverlener of each municipality, and a privacy officer of West Betuwe and of Tiel.
 */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = (() => {
  const list: Array<[Role, string, boolean?]> = [
    ['werkcoach', WERKZAAK],
    ['privacy-officer', WERKZAAK],
    ['privacy-officer', WERKZAAK, true],
  ];
  for (const g of [...RIVIERENLAND].sort((a, b) => a.naam.localeCompare(b.naam, 'nl'))) {
    list.push(['participatiecoach', g.code], ['schuldhulpverlener', g.code]);
    if (g.code === 'GM1960' || g.code === 'GM0281') list.push(['privacy-officer', g.code]);
  }
  return list.map(([role, org, second], i) => account(role, org, i, second));
})();
