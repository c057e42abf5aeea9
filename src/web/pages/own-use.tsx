import type { Child } from 'hono/jsx';
import type { OwnUsePage as OwnUseList } from '../../audit/own-use.js';
import { Page } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';
import { Pagination } from './lists.js';
import { ClientRef, ScrollTable } from './sections.js';
import { CHANNELS, OUTCOMES, OWN_USE_ACTIONS_IN_WORDS, momentInWords, purposeInWords, word } from './words.js';

/**
 * "Mijn gebruik": the person's own recent accesses, so they can see what was recorded in their name. No reason is
 * shown for a refusal: it could tell an unknown client from one without a relationship.
 */
export function OwnUsePage({ frame, page, paged }: { frame: Frame; page: OwnUseList; paged: boolean }) {
  return (
    <Page title="Mijn gebruik" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Mijn gebruik</h1>
      <p class="utrecht-paragraph">
        Uw eigen raadplegingen van cliëntgegevens, de nieuwste eerst, zoals ze in het auditlog staan. Ziet u iets dat u niet zelf hebt gedaan? Meld het bij de
        privacy officer van uw organisatie.
      </p>
      {page.items.length === 0 ? (
        <p class="utrecht-paragraph">Er staan nog geen raadplegingen op uw naam.</p>
      ) : (
        <ScrollTable
          label="Mijn raadplegingen"
          head={['Wanneer', 'Wat', 'Cliënt', 'Doel', 'Via', 'Uitkomst']}
          rows={page.items.map((u): Child[] => [
            momentInWords(u.at),
            OWN_USE_ACTIONS_IN_WORDS[u.action],
            u.clientRef === undefined ? '—' : <ClientRef value={u.clientRef} />,
            purposeInWords(u.purpose),
            word(CHANNELS, u.channel),
            <span class={`doelpoort-outcome doelpoort-outcome--${u.outcome}`}>{OUTCOMES[u.outcome]}</span>,
          ])}
        />
      )}
      <Pagination path={WEB_PATHS.ownUse} next={page.next} paged={paged} />
    </Page>
  );
}
