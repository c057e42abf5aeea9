import type { InboxItem, Kp4Item, ListPage } from '../../clients/lists.js';
import type { Child } from 'hono/jsx';
import { Page } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';
import { ClientRef, ScrollTable } from './sections.js';
import { ONDERBOUWINGEN, OVERDRACHT_STATUS, dateInWords, word, yesNo } from './words.js';

/**
 * The lists people work through: the two handover inboxes (one table, a direction) and "Mijn KP4-cliënten". Each is a
 * function of a page the list verbs released (`{ items, next }`, src/clients/lists.ts): the minimal list fields only.
 */

/** "Volgende pagina" with the cursor of the next page, and the way back to the first once past it. */
export function Pagination({ path, next, paged }: { path: string; next: string | null; paged: boolean }) {
  if (next === null && !paged) return null;
  return (
    <nav class="doelpoort-pagination" aria-label="Paginering">
      <ul>
        {paged ? (
          <li>
            <a class="utrecht-link" href={path}>
              Eerste pagina
            </a>
          </li>
        ) : null}
        {next !== null ? (
          <li>
            <a class="utrecht-link" href={`${path}?cursor=${encodeURIComponent(next)}`} rel="next">
              Volgende pagina
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

/** The direction of an inbox: what it lists, where its documents are, and its words. */
const INBOXES = {
  'KP3-KP4': {
    path: WEB_PATHS.inbox,
    title: 'Overdrachten',
    lead: 'Cliënten die Werkzaak van KP3 naar KP4 aan uw gemeente overdraagt, de nieuwste eerst. Open een naam voor het overdrachtsdocument.',
    label: 'Overdrachten van KP3 naar KP4',
    empty: 'Er zijn nu geen overdrachten van KP3 naar KP4 aan uw gemeente.',
  },
  'KP4-KP3': {
    path: WEB_PATHS.returns,
    title: 'Terugmeldingen',
    lead: 'Cliënten die van KP4 terugkomen naar KP3, de nieuwste eerst. Open een naam voor het dossier.',
    label: 'Terugmeldingen van KP4 naar KP3',
    empty: 'Er zijn nu geen terugmeldingen van KP4 naar KP3.',
  },
} as const;

/** The handovers of one direction as a table; each name links to the client's document. */
export function InboxTable({ direction, items }: { direction: keyof typeof INBOXES; items: InboxItem[] }) {
  const inbox = INBOXES[direction];
  if (items.length === 0) return <p class="utrecht-paragraph">{inbox.empty}</p>;
  return (
    <ScrollTable
      label={inbox.label}
      head={['Naam', 'Cliëntnummer', 'Datum', 'Status', 'Onderbouwing', 'Driegesprek gewenst']}
      rows={items.map((i): Child[] => [
        <a class="utrecht-link" href={`${inbox.path}/${encodeURIComponent(i.clientRef)}`}>
          {i.naam ?? i.clientRef}
        </a>,
        <ClientRef value={i.clientRef} />,
        dateInWords(i.overdracht?.datum),
        word(OVERDRACHT_STATUS, i.overdracht?.status),
        word(ONDERBOUWINGEN, i.overdracht?.onderbouwing),
        yesNo(i.overdracht?.driegesprekGewenst),
      ])}
    />
  );
}

/** An inbox page: the participatiecoach's (KP3→KP4) or the werkcoach's (KP4→KP3). */
export function InboxPage({ frame, direction, page, paged }: { frame: Frame; direction: keyof typeof INBOXES; page: ListPage<InboxItem>; paged: boolean }) {
  const inbox = INBOXES[direction];
  return (
    <Page title={inbox.title} nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">{inbox.title}</h1>
      <p class="utrecht-paragraph">{inbox.lead}</p>
      <InboxTable direction={direction} items={page.items} />
      <Pagination path={inbox.path} next={page.next} paged={paged} />
    </Page>
  );
}

/** "Mijn KP4-cliënten": the KP4 clients living in the coach's municipality; each links to the client's page. */
export function Kp4ClientsPage({ frame, page, paged }: { frame: Frame; page: ListPage<Kp4Item>; paged: boolean }) {
  return (
    <Page title="Mijn KP4-cliënten" nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      <h1 class="utrecht-heading-1">Mijn KP4-cliënten</h1>
      <p class="utrecht-paragraph">De cliënten met klantprofiel KP4 die in uw gemeente wonen. Open een naam voor de gegevens voor de begeleiding.</p>
      {page.items.length === 0 ? (
        <p class="utrecht-paragraph">Er wonen nu geen KP4-cliënten in uw gemeente.</p>
      ) : (
        <ScrollTable
          label="Mijn KP4-cliënten"
          head={['Naam', 'Cliëntnummer']}
          rows={page.items.map((i): Child[] => [
            <a class="utrecht-link" href={`${WEB_PATHS.kp4Clients}/${encodeURIComponent(i.clientRef)}`}>
              {i.naam ?? i.clientRef}
            </a>,
            <ClientRef value={i.clientRef} />,
          ])}
        />
      )}
      <Pagination path={WEB_PATHS.kp4Clients} next={page.next} paged={paged} />
      <p class="utrecht-paragraph">
        Staat een cliënt die u nu nodig hebt niet in deze lijst, bijvoorbeeld omdat de overdracht nog niet is geregistreerd?{' '}
        <a class="utrecht-link" href="/noodtoegang">
          Noodtoegang aanvragen
        </a>
      </p>
    </Page>
  );
}
