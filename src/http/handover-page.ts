import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { HandoverDocument } from '../overdracht/handover-document.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The FML (functionele mogelijkhedenlijst) rubrieken, as a coach knows them. */
const FML_RUBRIEKEN: Record<string, string> = {
  I: 'I. Persoonlijk functioneren',
  II: 'II. Sociaal functioneren',
  III: 'III. Aanpassing aan fysieke omgevingseisen',
  IV: 'IV. Dynamische handelingen',
  V: 'V. Statische houdingen',
  VI: 'VI. Werktijden',
};

const LEEFGEBIEDEN: Record<string, string> = {
  werk: 'Werk',
  gezondheid: 'Gezondheid en verslaving',
  sociaal: 'Sociale omgeving',
  'huisvesting-financien': 'Huisvesting en financiën',
  justitie: 'Justitie',
};

const SECTIES: Record<string, string> = {
  persoon: 'Persoonsgegevens',
  uitkering: 'Uitkering',
  inhoudingen: 'Inhouding',
  klantprofielen: 'Klantprofiel',
  ontheffingen: 'Ontheffing',
  belastbaarheidsonderzoeken: 'Belastbaarheidsonderzoek',
  overdrachten: 'Overdracht',
  leefgebieden: 'Leefgebied',
  boetes: 'Boete',
  contactmomenten: 'Contactmoment',
};

/** `belastbaarheidsonderzoeken[0].diagnose` → `Belastbaarheidsonderzoek 1 · diagnose`, for a reader who is no developer. */
function fieldLabel(path: string): string {
  return path
    .split('.')
    .map((part) => {
      const m = /^([A-Za-z]+)(?:\[(\d+)\])?$/.exec(part);
      if (!m) return part;
      const label = SECTIES[m[1]!] ?? m[1]!;
      return m[2] === undefined ? label : `${label} ${Number(m[2]) + 1}`;
    })
    .join(' · ');
}

const nlDate = (iso: unknown) => (typeof iso === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(iso) ? iso.split('-').reverse().join('-') : '—');
const yesNo = (v: unknown) => (v === true ? 'ja' : v === false ? 'nee' : '—');
const show = (v: unknown) => (v === undefined || v === null || v === '' ? '—' : String(v));

function rows(pairs: Array<[string, unknown, boolean?]>): Html {
  // A pair whose value was not released (undefined) is left out rather than shown empty.
  return html`${pairs.filter(([, v, always]) => always || v !== undefined).map(([label, v]) => html`<tr><th>${label}</th><td>${show(v)}</td></tr>`)}`;
}

/**
 * The printable handover page (Accept: text/html): Dutch labels, FML limitations by rubriek, what was withheld and why.
 * Its one style element carries `nonce`, the nonce of the response's Content-Security-Policy (security-headers.ts).
 */
export function handoverPage(doc: HandoverDocument, decision: { id: string; policyVersion: string }, generatedAt: string, nonce: string): Html {
  const r = doc.record;
  const p = r.persoon;
  const o = doc.overdracht;
  const title = doc.richting === 'KP3-KP4' ? 'Overdracht KP3 → KP4' : 'Overdracht KP4 → KP3';
  const naam = p ? [p.voornamen, p.achternaam].filter(Boolean).join(' ') : '';
  return html`<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>${title} · ${doc.clientRef}</title>
<style nonce="${nonce}">
  :root { --ink: #1b1b1b; --muted: #5a5a5a; --line: #d6d6d6; --accent: #154273; --warn: #fff4d6; }
  * { box-sizing: border-box; }
  body { font: 11pt/1.45 "Segoe UI", system-ui, sans-serif; color: var(--ink); max-width: 52rem; margin: 2rem auto; padding: 0 1.5rem; }
  header { border-bottom: 3px solid var(--accent); padding-bottom: .75rem; margin-bottom: 1.25rem; }
  header p { margin: .1rem 0; color: var(--muted); }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; color: var(--accent); }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; color: var(--accent); border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
  h3 { font-size: 1rem; margin: 1rem 0 .35rem; }
  table { width: 100%; border-collapse: collapse; margin: .25rem 0 .75rem; }
  th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
  table.kv th { width: 14rem; font-weight: 600; color: var(--muted); }
  thead th { font-weight: 600; background: #f3f5f8; }
  .signalen { background: var(--warn); border-left: 4px solid #e0a800; padding: .6rem .9rem; margin: 1rem 0; }
  .signalen p { margin: .2rem 0; }
  .withheld { color: var(--muted); font-size: .95rem; }
  .withheld code { font-size: .85rem; }
  footer { margin-top: 2rem; border-top: 1px solid var(--line); padding-top: .5rem; color: var(--muted); font-size: .85rem; }
  .vertrouwelijk { font-weight: 700; color: #a00; }
  @media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, .signalen { break-inside: avoid; } }
</style>
</head>
<body>
<header>
  <p class="vertrouwelijk">Vertrouwelijk — bevat gegevens over gezondheid (AVG art. 9). Niet verder verspreiden.</p>
  <h1>${title}</h1>
  <p>${naam || doc.clientRef} · cliëntnummer ${doc.clientRef}</p>
  <p>Opgesteld ${nlDate(generatedAt.slice(0, 10))} via doelpoort, voor het doel “${doc.purpose}”.</p>
</header>
${doc.signalen.length > 0 ? html`<section class="signalen" aria-label="Signalen">${doc.signalen.map((s) => html`<p>${s}</p>`)}</section>` : ''}
${
  p
    ? html`<h2>Cliënt</h2><table class="kv">${rows([
        ['Naam', naam || undefined],
        ['Geboortedatum', p.geboortedatum && nlDate(p.geboortedatum)],
        [
          'Adres',
          p.adres
            ? [p.adres.straat, p.adres.huisnummer].filter(Boolean).join(' ') +
              (p.adres.postcode || p.adres.woonplaats ? `, ${[p.adres.postcode, p.adres.woonplaats].filter(Boolean).join(' ')}` : '')
            : undefined,
        ],
        ['Telefoon', p.telefoon],
        ['E-mail', p.email],
      ])}</table>`
    : ''
}
${
  o
    ? html`<h2>Overdracht</h2><table class="kv">${rows([
        ['Datum', o.datum && nlDate(o.datum)],
        ['Status', o.status],
        ['Van', o.vanOrganisatie],
        ['Naar', o.naarOrganisatie],
        ['Onderbouwing', o.onderbouwing],
        ['Cliënt geïnformeerd', o.clientGeinformeerd === undefined ? undefined : yesNo(o.clientGeinformeerd)],
        ['Bezwaar tegen delen', o.bezwaarTegenDelen === undefined ? undefined : yesNo(o.bezwaarTegenDelen)],
        ['Driegesprek gewenst', o.driegesprekGewenst === undefined ? undefined : yesNo(o.driegesprekGewenst)],
        ['Toelichting', o.toelichting],
      ])}</table>`
    : ''
}
${
  r.uitkering
    ? html`<h2>Uitkering</h2><table class="kv">${rows([
        ['Regeling', r.uitkering.regeling],
        ['Ingangsdatum', r.uitkering.ingangsdatum && nlDate(r.uitkering.ingangsdatum)],
      ])}</table>`
    : ''
}
${
  r.klantprofielen?.length
    ? html`<h2>Klantprofielen</h2><table><thead><tr><th>Profiel</th><th>Vanaf</th><th>Tot</th></tr></thead><tbody>${r.klantprofielen.map(
        (k) => html`<tr><td>${show(k.profiel)}</td><td>${nlDate(k.vanaf)}</td><td>${k.tot ? nlDate(k.tot) : 'heden'}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  r.ontheffingen?.length
    ? html`<h2>Ontheffingen van de arbeidsplicht</h2><table><thead><tr><th>Soort</th><th>Reden</th><th>Vanaf</th><th>Tot</th></tr></thead><tbody>${r.ontheffingen.map(
        (x) =>
          html`<tr><td>${show(x.soort)}</td><td>${show(x.reden)}</td><td>${nlDate(x.vanaf)}</td><td>${x.tot ? nlDate(x.tot) : x.soort === 'duurzaam' ? 'duurzaam' : '—'}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  r.belastbaarheidsonderzoeken?.length
    ? html`<h2>Belastbaarheid</h2>${r.belastbaarheidsonderzoeken.map(
        (b) => html`<h3>Onderzoek van ${nlDate(b.datum)}${b.uitvoerder?.discipline ? html` door ${b.uitvoerder.discipline}` : ''}</h3>
<table class="kv">${rows([
          ['Arbeidsvermogen', b.arbeidsvermogen],
          ['Uren per dag', b.urenPerDag],
          ['Uren per week', b.urenPerWeek],
          ['Prognose', b.prognose],
          ['Advies', b.advies],
        ])}</table>
${
  b.functioneleBeperkingen?.length
    ? html`<table><thead><tr><th>Rubriek (FML)</th><th>Beperking</th></tr></thead><tbody>${[...b.functioneleBeperkingen]
        .sort((x, y) => String(x.rubriek).localeCompare(String(y.rubriek), 'nl', { numeric: true }))
        .map((f) => html`<tr><td>${FML_RUBRIEKEN[String(f.rubriek)] ?? show(f.rubriek)}</td><td>${show(f.omschrijving)}</td></tr>`)}</tbody></table>`
    : ''
}`,
      )}`
    : ''
}
${
  r.leefgebieden?.length
    ? html`<h2>Leefgebieden (Dariuz)</h2><table><thead><tr><th>Leefgebied</th><th>Score (1–5)</th><th>Toelichting</th></tr></thead><tbody>${r.leefgebieden.map(
        (l) => html`<tr><td>${LEEFGEBIEDEN[String(l.domein)] ?? show(l.domein)}</td><td>${show(l.score)}</td><td>${show(l.toelichting)}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  r.contactmomenten?.length
    ? html`<h2>Contactmomenten over de overdracht</h2><table><thead><tr><th>Datum</th><th>Verslag</th></tr></thead><tbody>${r.contactmomenten.map(
        (c) => html`<tr><td>${nlDate(c.datum)}</td><td>${show(c.verslag)}</td></tr>`,
      )}</tbody></table>`
    : ''
}
${
  doc.withheld.length > 0
    ? html`<h2>Niet gedeeld</h2><div class="withheld"><p>Deze gegevens bestaan wel, maar het deelbeleid staat niet toe ze voor dit doel te delen.</p><table><thead><tr><th>Gegeven</th><th>Reden</th></tr></thead><tbody>${doc.withheld.map(
        (w) => html`<tr><td>${fieldLabel(w.field)}<br><code>${w.field}</code></td><td>${w.reason}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}
<footer>Besluit ${decision.id} · beleidsversie ${decision.policyVersion}. Elke raadpleging wordt vastgelegd in het auditlog van doelpoort.</footer>
</body>
</html>`;
}
