import type { WebSession } from '../../http/env.js';
import { organisationName } from '../../organisations.js';
import type { Role } from '../../purposes.js';
import type { NavItem, PageUser } from '../layout.js';

/** The paths of the role pages (src/web/pages/routes.tsx), and of the lists the integrator mounts beside them. */
export const WEB_PATHS = {
  /** The role's own start page, where a login lands. */
  home: '/start',
  /** The participatiecoach's inbox of KP3→KP4 handovers; a document at `/overdrachten/:clientRef`. */
  inbox: '/overdrachten',
  /** "Mijn KP4-cliënten"; a client at `/clienten/:clientRef`. */
  kp4Clients: '/clienten',
  /** The werkcoach's inbox of KP4→KP3 handovers; a return file at `/terugmeldingen/:clientRef`. */
  returns: '/terugmeldingen',
  /** The debt counsellor's caseload and look-up form; a client at `/schuldhulp/clienten/:clientRef`. */
  schuldhulp: '/schuldhulp',
  lookup: '/schuldhulp/zoeken',
  ownUse: '/mijn-gebruik',
} as const;

/** Where a person of a role can go, and what they do there: the navigation and the role's home page. */
export interface Destination {
  href: string;
  label: string;
  description: string;
}

const OWN_USE: Destination = {
  href: WEB_PATHS.ownUse,
  label: 'Mijn gebruik',
  description: 'Zie welke cliëntgegevens u de laatste tijd hebt geraadpleegd, en of dat was toegestaan. Elke raadpleging wordt vastgelegd.',
};

export const ROLE_DESTINATIONS: Record<Role, Destination[]> = {
  participatiecoach: [
    {
      href: WEB_PATHS.inbox,
      label: 'Overdrachten',
      description: 'Cliënten die Werkzaak van KP3 naar KP4 aan uw gemeente overdraagt. Open het overdrachtsdocument en print het zo nodig.',
    },
    {
      href: WEB_PATHS.kp4Clients,
      label: 'Mijn KP4-cliënten',
      description: 'De KP4-cliënten die in uw gemeente wonen, voor de begeleiding.',
    },
    {
      href: '/noodtoegang',
      label: 'Noodtoegang',
      description:
        'Een cliënt die niet in uw lijsten staat maar die u nu nodig hebt (een overdracht die nog niet is geregistreerd). Met een reden en opnieuw inloggen; elke noodtoegang wordt beoordeeld.',
    },
    OWN_USE,
  ],
  werkcoach: [
    {
      href: WEB_PATHS.returns,
      label: 'Terugmeldingen',
      description: 'Cliënten die van KP4 terugkomen naar KP3. Open het terugmeldingsdossier van een cliënt.',
    },
    OWN_USE,
  ],
  schuldhulpverlener: [
    {
      href: WEB_PATHS.schuldhulp,
      label: 'Schuldhulp',
      description: 'De cliënten met een lopend schuldhulptraject bij uw gemeente, en een cliënt zoeken op BSN.',
    },
    OWN_USE,
  ],
  'privacy-officer': [
    {
      href: '/beheer',
      label: 'Beheer en toezicht',
      description: 'Het deelbeleid (bekijken, voorstellen, simuleren, goedkeuren), het auditlog, inzageoverzichten en de toezichtrapportages.',
    },
    OWN_USE,
  ],
};

/** What a page shows around its content: the nonce of its CSP, and for a session the person and their navigation. */
export interface Frame {
  nonce: string;
  user?: PageUser | undefined;
  nav?: NavItem[] | undefined;
}

/** The frame of a page at `path` for `session` (none: a page of the API, or an error before the login). */
export function frameFor(session: WebSession | undefined, nonce: string, path: string): Frame {
  if (!session) return { nonce };
  const { login } = session;
  const user: PageUser = { name: login.name ?? login.sub, role: login.role, organisationName: organisationName(login.org), csrfToken: session.csrfToken };
  const nav: NavItem[] = [{ href: WEB_PATHS.home, label: 'Overzicht' }, ...ROLE_DESTINATIONS[login.role]].map(({ href, label }) => ({
    href,
    label,
    current: href === path,
  }));
  return { nonce, user, nav };
}
