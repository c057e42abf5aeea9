import type { ReleasedClient } from '../../clients/read.js';
import { SIGNAAL_BOETE_OVERWOGEN } from '../../overdracht/handover-document.js';
import { Page } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';
import { RecordSections, Signals } from './sections.js';
import { clientName, purposeInWords } from './words.js';

/** The purposes whose page shows one client's record (a handover has its document: handover.tsx). */
export type ClientPagePurpose = 'begeleiding-kp4' | 'schuldhulpverlening';

const BACK: Record<ClientPagePurpose, { href: string; label: string }> = {
  'begeleiding-kp4': { href: WEB_PATHS.kp4Clients, label: 'Terug naar mijn KP4-cliënten' },
  schuldhulpverlening: { href: WEB_PATHS.schuldhulp, label: 'Terug naar de caseload' },
};

/**
 * One client as a purpose may see it: for `begeleiding-kp4` the coach's view (profile, findings, a fine under
 * consideration only as a signal), for `schuldhulpverlening` the income side (benefit amounts, deductions, imposed
 * fines as debts). The sections show what the view holds, so each purpose's page shows just what its policy released.
 */
export function ClientPage({ frame, client, purpose }: { frame: Frame; client: ReleasedClient; purpose: ClientPagePurpose }) {
  const view = client.record;
  const naam = clientName(view.persoon);
  const signalen = (view.boetes ?? []).some((b) => b.status === 'overwogen') ? [SIGNAAL_BOETE_OVERWOGEN] : [];
  const back = BACK[purpose];
  return (
    <Page title={`Cliënt ${client.clientRef}`} nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <p class="utrecht-paragraph doelpoort-no-print">
        <a class="utrecht-link" href={back.href}>
          {back.label}
        </a>
      </p>
      <h1 class="utrecht-heading-1">{naam ?? `Cliënt ${client.clientRef}`}</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Cliëntnummer {client.clientRef} · doel: {purposeInWords(purpose)}
      </p>
      <Signals signalen={signalen} />
      <RecordSections view={view} withheld={client.withheld} />
      <p class="utrecht-paragraph doelpoort-document-footer">
        Besluit {client.decision.id} · beleidsversie {client.decision.policyVersion}. Deze raadpleging is vastgelegd in het auditlog van doelpoort.
      </p>
    </Page>
  );
}
