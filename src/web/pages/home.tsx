import type { WebSession } from '../../http/env.js';
import { organisationName } from '../../organisations.js';
import type { Role } from '../../purposes.js';
import { Page, ROLE_LABELS } from '../layout.js';
import { type Frame, ROLE_DESTINATIONS } from './frame.js';

/** What a role does through doelpoort, in a sentence (docs/domain.md, Users). */
const ROLE_INTRO: Record<Role, string> = {
  participatiecoach:
    'U ontvangt cliënten die Werkzaak van KP3 naar KP4 overdraagt, en u begeleidt de KP4-cliënten in uw gemeente. U ziet de gegevens die het deelbeleid voor dat doel vrijgeeft.',
  werkcoach: 'U ontvangt cliënten die van KP4 terugkomen naar KP3, met het dossier dat het deelbeleid daarvoor vrijgeeft.',
  schuldhulpverlener:
    'U ziet de inkomenskant van cliënten met een lopend schuldhulptraject bij uw gemeente: uitkering, inhoudingen en opgelegde boetes. Gezondheidsgegevens ziet u niet.',
  'privacy-officer': 'U schrijft en keurt het deelbeleid en houdt toezicht op het gebruik. Cliëntgegevens ziet u hier niet.',
};

/** The page a person lands on after logging in: who they are here, what they can do, the way to each of their lists. */
export function RoleHomePage({ frame, session }: { frame: Frame; session: WebSession }) {
  const { login } = session;
  return (
    <Page title="Overzicht" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Welkom{login.name ? `, ${login.name}` : ''}</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        U bent ingelogd als {ROLE_LABELS[login.role].toLowerCase()} bij{' '}
        {login.org.startsWith('GM') ? `de gemeente ${organisationName(login.org)}` : organisationName(login.org)}.
      </p>
      <p class="utrecht-paragraph">{ROLE_INTRO[login.role]}</p>
      <h2 class="utrecht-heading-2">Wat u hier kunt doen</h2>
      <ul class="doelpoort-destinations">
        {ROLE_DESTINATIONS[login.role].map((d) => (
          <li>
            <a class="utrecht-link doelpoort-destinations__link" href={d.href}>
              {d.label}
            </a>
            <p class="utrecht-paragraph">{d.description}</p>
          </li>
        ))}
      </ul>
    </Page>
  );
}
