import type { DecisionRef } from '../../clients/read.js';
import type { HandoverDocument } from '../../overdracht/handover-document.js';
import { Page, renderPage } from '../layout.js';
import { type Frame, WEB_PATHS } from './frame.js';
import { type DecidedDocument, DocumentSections } from './document-sections.js';
import { RICHTINGEN, clientName, momentInWords, purposeInWords } from './words.js';

/** The handover document as the policy released it, with the decision it rests on and when the page was made. */
export interface HandoverProps {
  document: DecidedDocument;
  decision: DecisionRef;
  /** Epoch milliseconds. */
  generatedAt: number;
}

/** `Overdracht KP3 naar KP4`. */
const titleOf = (doc: HandoverDocument) => `Overdracht ${RICHTINGEN[doc.richting]}`;

/**
 * The document itself: what a receiving coach reads and prints. Every section shows only released data; the signals
 * are an alert; what was held back is listed with its reason. The print header repeats "Vertrouwelijk" and the
 * clientRef on every printed page (theme.css: fixed in print, hidden on screen, where the heading says it).
 */
export function HandoverDocumentView({ document: doc, decision, generatedAt }: HandoverProps) {
  const view = doc.record;
  const naam = clientName(view.persoon);
  return (
    <article class="doelpoort-document">
      <table class="doelpoort-print-frame" role="presentation">
        <thead class="doelpoort-print-header" aria-hidden="true">
          <tr>
            <td>
              <div class="doelpoort-print-header__text">
                <strong>Vertrouwelijk</strong> · cliënt {doc.clientRef} · {titleOf(doc)}
              </div>
            </td>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>
              <p class="doelpoort-confidential">Vertrouwelijk: bevat gegevens over gezondheid (AVG art. 9). Niet verder verspreiden.</p>
              <h1 class="utrecht-heading-1">{titleOf(doc)}</h1>
              <p class="utrecht-paragraph utrecht-paragraph--lead">{naam ? `${naam} · cliëntnummer ${doc.clientRef}` : `Cliëntnummer ${doc.clientRef}`}</p>
              <p class="utrecht-paragraph">
                Opgesteld op {momentInWords(generatedAt)} via doelpoort, voor het doel {purposeInWords(doc.purpose)}.
              </p>
              <DocumentSections doc={doc} />
              <p class="utrecht-paragraph doelpoort-document-footer">
                Besluit {decision.id} · beleidsversie {decision.policyVersion}. Elke raadpleging wordt vastgelegd in het auditlog van doelpoort.
              </p>
            </td>
          </tr>
        </tbody>
      </table>
    </article>
  );
}

/** The handover document in the frame of the web application (a session's page) or bare (the API's printable page). */
export function HandoverPage({ frame, ...props }: HandoverProps & { frame: Frame }) {
  const back = props.document.richting === 'KP3-KP4' ? { href: WEB_PATHS.inbox, label: 'overdrachten' } : { href: WEB_PATHS.returns, label: 'terugmeldingen' };
  return (
    <Page title={`Overdracht ${props.document.clientRef}`} nonce={frame.nonce} user={frame.user} nav={frame.nav}>
      {frame.user ? (
        <p class="utrecht-paragraph doelpoort-no-print">
          <a class="utrecht-link" href={back.href}>
            Terug naar de {back.label}
          </a>
          <span class="doelpoort-hint"> · Afdrukken kan met de afdrukfunctie van uw browser (Ctrl+P).</span>
        </p>
      ) : null}
      <HandoverDocumentView {...props} />
    </Page>
  );
}

/**
 * The API's printable handover page (`Accept: text/html`), the same component without a session's header and
 * navigation; `nonce` is the nonce of the response's Content-Security-Policy.
 */
export function handoverPageHtml(props: HandoverProps, nonce: string): Promise<string> {
  return renderPage(<HandoverPage {...props} frame={{ nonce }} />);
}
