import type { Problem } from '../../errors.js';
import type { WebSession } from '../../http/env.js';
import { ORGANISATIONS, organisationName } from '../../organisations.js';
import type { PolicyImpact } from '../../policy/lifecycle.js';
import type { FieldChange, FieldStatus, MatrixGroup } from '../../policy/matrix.js';
import type { Simulation } from '../../policy/simulate.js';
import type { PolicyVersion, PolicyVersionSummary } from '../../policy/versions.js';
import { PURPOSE_NAMES, ROLES } from '../../purposes.js';
import { ROLE_LABELS } from '../layout.js';
import { Alert, ConsolePage, Csrf, DataTable, purposeLabel, Td, When } from './ui.js';

/** The options of a yes-or-no fact of a hypothetical client: absent, or present. */
const NEE_JA = [
  ['', 'Nee'],
  ['ja', 'Ja'],
] as const;

/** The policy pages: the versions, one version as a matrix, the difference, propose, simulate, impact, decide. */

interface Frame {
  nonce: string;
  session: WebSession;
  path: string;
}

const STATUS_LABELS: Record<PolicyVersion['status'], string> = { draft: 'Concept', active: 'Actief', retired: 'Vervangen', rejected: 'Afgewezen' };

const officer = (sub: string | null, org?: string) => (sub === null ? '—' : org ? `${sub} (${organisationName(org)})` : sub);

/** `GET /beheer/beleid`: the versions, newest first. */
export function PolicyListPage(props: Frame & { active: number; items: PolicyVersionSummary[] }) {
  return (
    <ConsolePage title="Deelbeleid" {...props}>
      <h1 class="utrecht-heading-1">Deelbeleid</h1>
      <p class="utrecht-paragraph">
        Het deelbeleid bepaalt welke gegevens elke rol voor elk doel te zien krijgt. Een nieuwe versie wordt eerst een concept; een andere privacy officer van
        Werkzaak keurt haar goed (vier ogen), en pas dan geldt zij.
      </p>
      <div class="doelpoort-button-row">
        <a class="utrecht-button-link utrecht-button-link--primary-action" href="/beheer/beleid/nieuw">
          Nieuwe versie voorstellen
        </a>
        <a class="utrecht-button-link utrecht-button-link--secondary-action" href="/beheer/beleid/simuleren">
          Simuleren
        </a>
      </div>
      <DataTable caption="Versies van het deelbeleid" head={['Versie', 'Status', 'Voorgesteld door', 'Voorgesteld op', 'Besloten door', 'Besloten op']}>
        {props.items.map((v) => (
          <tr class="utrecht-table__row">
            <Td>
              <a class="utrecht-link" href={`/beheer/beleid/${v.id}`}>
                Versie {v.id}
              </a>
            </Td>
            <Td>
              {STATUS_LABELS[v.status]}
              {v.id === props.active ? ' (geldt nu)' : ''}
            </Td>
            <Td>{officer(v.author.sub, v.author.org)}</Td>
            <Td>
              <When at={v.createdAt} />
            </Td>
            <Td>{officer(v.decider)}</Td>
            <Td>
              <When at={v.decidedAt} />
            </Td>
          </tr>
        ))}
      </DataTable>
    </ConsolePage>
  );
}

/** One field's status in words. */
function StatusText(props: { status: FieldStatus }) {
  const s = props.status;
  if (s.status === 'released') return <span class="doelpoort-status doelpoort-status--released">Verstrekt</span>;
  if (s.status === 'conditional')
    return (
      <span>
        <span class="doelpoort-status doelpoort-status--conditional">Verstrekt als</span> {s.conditions.join(' en ')}
      </span>
    );
  return (
    <span>
      <span class="doelpoort-status doelpoort-status--withheld">Niet verstrekt</span> — {s.reason}
    </span>
  );
}

/** How many fields of a group are released, released under conditions, and withheld. */
function counts(g: MatrixGroup): string {
  const all = g.sections.flatMap((s) => s.fields);
  const n = (status: FieldStatus['status']) => all.filter((f) => f.status === status).length;
  return `${n('released')} verstrekt, ${n('conditional')} onder voorwaarden, ${n('withheld')} niet verstrekt`;
}

/** The matrix: per role and purpose a table of sections and fields, each group folded open on request (no script). */
function Matrix(props: { groups: MatrixGroup[] }) {
  return (
    <div>
      {props.groups.map((g) => (
        <details class="doelpoort-matrix-group">
          <summary>
            <span class="doelpoort-strong">
              {ROLE_LABELS[g.role]} — {purposeLabel(g.purpose)}
            </span>{' '}
            <span class="doelpoort-small">({counts(g)})</span>
          </summary>
          <DataTable
            caption={`${ROLE_LABELS[g.role]}, ${purposeLabel(g.purpose)}: verstrekte en achtergehouden velden`}
            head={['Onderdeel', 'Veld', 'Besluit']}
          >
            {g.sections.flatMap((s) =>
              s.fields.map((f, i) => (
                <tr class="utrecht-table__row">
                  <Td>{i === 0 ? s.subject : ''}</Td>
                  <Td>
                    <code>{f.field}</code>
                  </Td>
                  <Td>
                    <StatusText status={f} />
                  </Td>
                </tr>
              )),
            )}
          </DataTable>
        </details>
      ))}
      <p class="utrecht-paragraph">Onderdelen die een rol voor een doel niet noemt, worden voor dat doel helemaal niet verstrekt.</p>
    </div>
  );
}

const CHANGE_LABELS: Record<FieldChange['change'], string> = {
  'newly-released': 'Nieuw verstrekt',
  'newly-withheld': 'Nieuw achtergehouden',
  'conditions-changed': 'Andere voorwaarden',
};

/** The difference of a draft against the version in force. */
function Diff(props: { changes: FieldChange[]; activeId: number }) {
  if (props.changes.length === 0) return <p class="utrecht-paragraph">Dit concept verstrekt precies dezelfde velden als de actieve versie {props.activeId}.</p>;
  return (
    <DataTable
      caption={`Verschil met de actieve versie ${props.activeId}, veld voor veld`}
      head={['Rol en doel', 'Onderdeel en veld', 'Wijziging', 'Nu', 'Met dit concept']}
    >
      {props.changes.map((c) => (
        <tr class="utrecht-table__row">
          <Td>
            {ROLE_LABELS[c.role]} — {purposeLabel(c.purpose)}
          </Td>
          <Td>
            {c.subject} <code>{c.field}</code>
          </Td>
          <Td>
            <span class={`doelpoort-status doelpoort-status--${c.change}`}>{CHANGE_LABELS[c.change]}</span>
          </Td>
          <Td>
            <StatusText status={c.before} />
          </Td>
          <Td>
            <StatusText status={c.after} />
          </Td>
        </tr>
      ))}
    </DataTable>
  );
}

/** `GET /beheer/beleid/:id`: one version, its matrix, and for a draft the difference and the decisions. */
export function PolicyVersionPage(
  props: Frame & { version: PolicyVersion; matrix: MatrixGroup[]; diff: FieldChange[] | undefined; activeId: number; isAuthor: boolean; notice?: string },
) {
  const v = props.version;
  return (
    <ConsolePage title={`Deelbeleid versie ${v.id}`} {...props}>
      <h1 class="utrecht-heading-1">Deelbeleid versie {v.id}</h1>
      {props.notice ? <Alert kind="ok">{props.notice}</Alert> : null}
      <dl class="doelpoort-facts">
        <dt>Status</dt>
        <dd>
          {STATUS_LABELS[v.status]}
          {v.id === props.activeId ? ' (geldt nu)' : ''}
        </dd>
        <dt>Voorgesteld door</dt>
        <dd>{officer(v.author.sub, v.author.org)}</dd>
        <dt>Voorgesteld op</dt>
        <dd>
          <When at={v.createdAt} />
        </dd>
        <dt>Gebaseerd op</dt>
        <dd>{v.baseVersion === null ? '—' : `versie ${v.baseVersion}`}</dd>
        <dt>Besloten door</dt>
        <dd>{officer(v.decider)}</dd>
        <dt>Besloten op</dt>
        <dd>
          <When at={v.decidedAt} />
        </dd>
        {v.rejectReason ? (
          <>
            <dt>Reden van afwijzing</dt>
            <dd>{v.rejectReason}</dd>
          </>
        ) : null}
        <dt>Versiekenmerk (hash)</dt>
        <dd>
          <code class="doelpoort-hash">{v.hash}</code>
        </dd>
      </dl>
      {v.status === 'draft' ? (
        <>
          <h2 class="utrecht-heading-2">Wat verandert er?</h2>
          <Diff changes={props.diff ?? []} activeId={props.activeId} />
          <h2 class="utrecht-heading-2">Besluiten</h2>
          <div class="doelpoort-button-row">
            <a class="utrecht-button-link utrecht-button-link--secondary-action" href={`/beheer/beleid/simuleren?versie=${v.id}`}>
              Simuleren met dit concept
            </a>
            <a class="utrecht-button-link utrecht-button-link--secondary-action" href={`/beheer/beleid/${v.id}/gevolgen`}>
              Gevolgen berekenen
            </a>
            <a class="utrecht-button-link utrecht-button-link--primary-action" href={`/beheer/beleid/${v.id}/goedkeuren`}>
              Goedkeuren
            </a>
          </div>
          <form method="post" action={`/beheer/beleid/${v.id}/afwijzen`} class="doelpoort-form">
            <Csrf session={props.session} />
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="reject-reason">
                {props.isAuthor ? 'Reden om dit concept in te trekken' : 'Reden van afwijzing'}
              </label>
              <textarea class="utrecht-textarea" id="reject-reason" name="reden" rows={3} required maxlength={500} />
            </div>
            <button type="submit" class="utrecht-button utrecht-button--secondary-action">
              {props.isAuthor ? 'Intrekken' : 'Afwijzen'}
            </button>
          </form>
        </>
      ) : null}
      <h2 class="utrecht-heading-2">Wat deze versie verstrekt</h2>
      <Matrix groups={props.matrix} />
    </ConsolePage>
  );
}

/** `GET|POST /beheer/beleid/nieuw`: the document as YAML in a textarea, or a file; each problem beside it. */
export function ProposePage(props: Frame & { text: string; problems: Array<Problem & { line?: number | undefined }> }) {
  const invalid = props.problems.length > 0;
  return (
    <ConsolePage title="Nieuwe versie voorstellen" {...props}>
      <h1 class="utrecht-heading-1">Nieuwe versie van het deelbeleid voorstellen</h1>
      <p class="utrecht-paragraph">
        Pas het beleid aan (YAML, zoals in de map <code>policies/</code>) of kies een bestand. Het wordt gecontroleerd zoals bij het laden: vorm, velden,
        voorwaarden en de wettelijke ondergrenzen. Een goedgekeurde versie geldt direct.
      </p>
      {invalid ? (
        <div id="beleid-problemen">
          <Alert kind="error" title={`Het beleid is niet opgeslagen: ${props.problems.length} ${props.problems.length === 1 ? 'probleem' : 'problemen'}`}>
            <ul class="utrecht-unordered-list">
              {props.problems.map((p) => (
                <li class="utrecht-unordered-list__item">
                  {p.line ? `Regel ${p.line}, ` : ''}
                  <code>{p.path}</code>: {p.message}
                </li>
              ))}
            </ul>
          </Alert>
        </div>
      ) : null}
      <form method="post" action="/beheer/beleid/nieuw" enctype="multipart/form-data" class="doelpoort-form">
        <Csrf session={props.session} />
        <div class={invalid ? 'utrecht-form-field utrecht-form-field--invalid' : 'utrecht-form-field'}>
          <label class="utrecht-form-label" for="beleid">
            Het beleid (YAML)
          </label>
          <p class="utrecht-form-field-description" id="beleid-uitleg">
            Elke regel noemt een rol, een doel, een onderdeel en de velden; een regel met <code>inverted: true</code> houdt velden achter en noemt een reden.
          </p>
          <textarea
            class="utrecht-textarea doelpoort-code-input"
            id="beleid"
            name="beleid"
            rows={24}
            spellcheck={false}
            aria-invalid={invalid ? 'true' : undefined}
            aria-describedby={invalid ? 'beleid-uitleg beleid-problemen' : 'beleid-uitleg'}
          >
            {props.text}
          </textarea>
        </div>
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="bestand">
            Of kies een bestand (.yaml of .json)
          </label>
          <input class="utrecht-textbox" type="file" id="bestand" name="bestand" accept=".yaml,.yml,.json" />
        </div>
        <button type="submit" class="utrecht-button utrecht-button--primary-action">
          Voorstellen als concept
        </button>
      </form>
    </ConsolePage>
  );
}

/** The simulation form's values; the hypothetical record as a few key facts (`dossier`: as JSON instead, advanced). */
export interface SimulationForm {
  versie: string;
  rol: string;
  organisatie: string;
  doel: string;
  clientRef: string;
  dossier: string;
  /** The hypothetical client: municipality, klantprofiel, a handover, a debt trajectory, an assessment, a fine, a fraud case. */
  gemeente: string;
  profiel: string;
  overdracht: string;
  overdrachtStatus: string;
  overdrachtNaar: string;
  schuldhulp: string;
  onderzoek: string;
  boete: string;
  fraude: string;
}

/** The hypothetical record's fields as the form starts. */
export const SIMULATION_DEFAULTS = {
  gemeente: 'GM1960',
  profiel: 'KP3',
  overdracht: 'KP3-KP4',
  overdrachtStatus: 'aangevraagd',
  overdrachtNaar: 'GM1960',
  schuldhulp: '',
  onderzoek: 'ja',
  boete: '',
  fraude: '',
} as const;

const MUNICIPALITIES = ORGANISATIONS.filter((o) => o.code.startsWith('GM'));

/** One select of the hypothetical record. */
function Choice(props: { id: string; name: string; label: string; value: string; options: ReadonlyArray<readonly [string, string]> }) {
  return (
    <div class="utrecht-form-field">
      <label class="utrecht-form-label" for={props.id}>
        {props.label}
      </label>
      <select class="utrecht-select" id={props.id} name={props.name}>
        {props.options.map(([v, l]) => (
          <option value={v} selected={props.value === v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

/** `GET|POST /beheer/beleid/simuleren`: the form, and the outcome when there is one. */
export function SimulatePage(props: Frame & { form: SimulationForm; versions: PolicyVersionSummary[]; result?: Simulation | undefined; problems?: Problem[] }) {
  const f = props.form;
  const r = props.result;
  const problems = props.problems ?? [];
  return (
    <ConsolePage title="Simuleren" {...props}>
      <h1 class="utrecht-heading-1">Simuleren</h1>
      <p class="utrecht-paragraph">
        Wat zou een versie verstrekken aan een rol van een organisatie, voor een doel, bij een cliënt? De simulatie toont alleen veldnamen, nooit gegevens.
      </p>
      {problems.length > 0 ? (
        <div id="sim-problemen">
          <Alert kind="error" title="De simulatie kon niet worden uitgevoerd">
            <ul class="utrecht-unordered-list">
              {problems.map((p) => (
                <li class="utrecht-unordered-list__item">
                  <code>{p.path}</code>: {p.message}
                </li>
              ))}
            </ul>
          </Alert>
        </div>
      ) : null}
      <form method="post" action="/beheer/beleid/simuleren" class="doelpoort-form">
        <Csrf session={props.session} />
        <div class="doelpoort-filter__grid">
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="s-versie">
              Versie
            </label>
            <select class="utrecht-select" id="s-versie" name="versie">
              <option value="">De actieve versie</option>
              {props.versions.map((v) => (
                <option value={String(v.id)} selected={f.versie === String(v.id)}>
                  Versie {v.id} ({STATUS_LABELS[v.status].toLowerCase()})
                </option>
              ))}
            </select>
          </div>
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="s-rol">
              Rol
            </label>
            <select class="utrecht-select" id="s-rol" name="rol">
              {ROLES.map((role) => (
                <option value={role} selected={f.rol === role}>
                  {ROLE_LABELS[role]}
                </option>
              ))}
            </select>
          </div>
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="s-org">
              Organisatie
            </label>
            <select class="utrecht-select" id="s-org" name="organisatie">
              {ORGANISATIONS.map((o) => (
                <option value={o.code} selected={f.organisatie === o.code}>
                  {o.name}
                </option>
              ))}
            </select>
          </div>
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="s-doel">
              Doel
            </label>
            <select class="utrecht-select" id="s-doel" name="doel">
              {PURPOSE_NAMES.map((p) => (
                <option value={p} selected={f.doel === p}>
                  {purposeLabel(p)}
                </option>
              ))}
            </select>
          </div>
        </div>
        <fieldset class="utrecht-form-fieldset">
          <legend class="utrecht-form-fieldset__legend">Bij welke cliënt?</legend>
          <div class="utrecht-form-field">
            <label class="utrecht-form-label" for="s-client">
              Een echte cliënt (cliëntnummer)
            </label>
            <input class="utrecht-textbox" id="s-client" name="clientRef" value={f.clientRef} autocomplete="off" aria-describedby="s-client-hint" />
            <p class="utrecht-form-field-description" id="s-client-hint">
              Alleen een cliënt die uw organisatie zou kunnen zien. Laat leeg om een verzonnen dossier te gebruiken.
            </p>
          </div>
          <fieldset class="utrecht-form-fieldset">
            <legend class="utrecht-form-fieldset__legend">Of een verzonnen cliënt</legend>
            <p class="utrecht-form-field-description">
              Kies een paar kenmerken; doelpoort maakt er een verzonnen dossier van, met verzonnen tekst in de vrije velden. Er wordt niets opgeslagen.
            </p>
            <div class="doelpoort-filter__grid">
              <Choice id="s-gemeente" name="gemeente" label="Woont in" value={f.gemeente} options={MUNICIPALITIES.map((o) => [o.code, o.name] as const)} />
              <Choice id="s-profiel" name="profiel" label="Klantprofiel" value={f.profiel} options={['KP1', 'KP2', 'KP3', 'KP4'].map((k) => [k, k] as const)} />
              <Choice
                id="s-overdracht"
                name="overdracht"
                label="Overdracht"
                value={f.overdracht}
                options={[
                  ['', 'Geen'],
                  ['KP3-KP4', 'Van KP3 naar KP4'],
                  ['KP4-KP3', 'Van KP4 naar KP3'],
                ]}
              />
              <Choice
                id="s-overdracht-status"
                name="overdrachtStatus"
                label="Status van de overdracht"
                value={f.overdrachtStatus}
                options={[
                  ['aangevraagd', 'Aangevraagd'],
                  ['afgerond', 'Afgerond'],
                  ['afgewezen', 'Afgewezen'],
                ]}
              />
              <Choice
                id="s-overdracht-naar"
                name="overdrachtNaar"
                label="Overdracht aan"
                value={f.overdrachtNaar}
                options={ORGANISATIONS.map((o) => [o.code, o.name] as const)}
              />
              <Choice id="s-schuldhulp" name="schuldhulp" label="Lopend schuldhulptraject bij de woongemeente" value={f.schuldhulp} options={NEE_JA} />
              <Choice id="s-onderzoek" name="onderzoek" label="Belastbaarheidsonderzoek" value={f.onderzoek} options={NEE_JA} />
              <Choice
                id="s-boete"
                name="boete"
                label="Boete"
                value={f.boete}
                options={[
                  ['', 'Geen'],
                  ['overwogen', 'Overwogen'],
                  ['opgelegd', 'Opgelegd'],
                ]}
              />
              <Choice id="s-fraude" name="fraude" label="Lopend fraudeonderzoek" value={f.fraude} options={NEE_JA} />
            </div>
          </fieldset>
          <details class="doelpoort-details" open={f.dossier.trim() !== '' ? true : undefined}>
            <summary>Geavanceerd: een verzonnen dossier als JSON</summary>
            <div class="utrecht-form-field">
              <label class="utrecht-form-label" for="s-dossier">
                Verzonnen dossier (JSON, één regel van een Suite-export); gaat vóór de kenmerken hierboven
              </label>
              <textarea class="utrecht-textarea doelpoort-code-input" id="s-dossier" name="dossier" rows={8} spellcheck={false}>
                {f.dossier}
              </textarea>
            </div>
          </details>
        </fieldset>
        <button type="submit" class="utrecht-button utrecht-button--primary-action">
          Simuleren
        </button>
      </form>
      {r ? (
        <section aria-labelledby="sim-uitkomst">
          <h2 class="utrecht-heading-2" id="sim-uitkomst">
            Uitkomst
          </h2>
          {!r.decision.relationship.holds ? (
            <Alert kind="warning" title="Geen toegang">
              <p class="utrecht-paragraph">
                De relatie die dit doel vraagt, bestaat niet (<code>{r.decision.relationship.reason}</code>): er wordt niets verstrekt.
              </p>
            </Alert>
          ) : (
            <Alert kind={r.decision.allowed ? 'ok' : 'warning'} title={r.decision.allowed ? 'Toegang toegestaan' : 'Toegang geweigerd door het beleid'}>
              <p class="utrecht-paragraph">
                {r.released.length} velden verstrekt, {r.withheld.length} achtergehouden; toegepaste regels: {r.matchedRules.join(', ') || 'geen'}.
              </p>
            </Alert>
          )}
          <h3 class="utrecht-heading-3">Verstrekt</h3>
          {r.released.length === 0 ? (
            <p class="utrecht-paragraph">Niets.</p>
          ) : (
            <ul class="doelpoort-field-list">
              {r.released.map((field) => (
                <li>
                  <code>{field}</code>
                </li>
              ))}
            </ul>
          )}
          <h3 class="utrecht-heading-3">Achtergehouden</h3>
          {r.withheld.length === 0 ? (
            <p class="utrecht-paragraph">Niets.</p>
          ) : (
            <DataTable caption="Achtergehouden velden en waarom" head={['Veld', 'Reden', 'Regel']}>
              {r.withheld.map((w) => (
                <tr class="utrecht-table__row">
                  <Td>
                    <code>{w.field}</code>
                  </Td>
                  <Td>{w.reason}</Td>
                  <Td>{w.rule ?? '—'}</Td>
                </tr>
              ))}
            </DataTable>
          )}
        </section>
      ) : null}
    </ConsolePage>
  );
}

const fieldCounts = (list: Array<{ field: string; lines: number }>) =>
  list.length === 0 ? '—' : list.map((f) => `${f.field} (${f.lines.toLocaleString('nl-NL')})`).join(', ');

/** `GET /beheer/beleid/:id/gevolgen`: the impact of a version on the logged traffic of the last N days. */
export function ImpactPage(props: Frame & { id: number; days: number; impact: PolicyImpact }) {
  const i = props.impact;
  return (
    <ConsolePage title={`Gevolgen van versie ${props.id}`} {...props}>
      <h1 class="utrecht-heading-1">Gevolgen van versie {props.id}</h1>
      <form method="get" action={`/beheer/beleid/${props.id}/gevolgen`} class="doelpoort-form doelpoort-inline-fields">
        <div class="utrecht-form-field">
          <label class="utrecht-form-label" for="i-days">
            Aantal dagen terug
          </label>
          <input class="utrecht-textbox" type="number" id="i-days" name="dagen" min={1} max={365} value={String(props.days)} />
        </div>
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">
          Opnieuw berekenen
        </button>
      </form>
      <p class="utrecht-paragraph">
        Van <When at={i.window.from} /> tot <When at={i.window.to} /> zijn {i.scanned.toLocaleString('nl-NL')} raadplegingen gelogd;{' '}
        {i.replayed.toLocaleString('nl-NL')} zijn opnieuw beoordeeld onder deze versie, en bij {i.changed.toLocaleString('nl-NL')} zou de uitkomst anders zijn.
      </p>
      {i.groups.length === 0 ? (
        <p class="utrecht-paragraph">Geen raadplegingen in deze periode om opnieuw te beoordelen.</p>
      ) : (
        <DataTable
          caption="Gevolgen per rol en doel (aantallen raadplegingen)"
          head={['Rol en doel', 'Beoordeeld', 'Anders', 'Nu wel toegang', 'Nu geen toegang', 'Nieuw verstrekt (velden)', 'Nieuw achtergehouden (velden)']}
        >
          {i.groups.map((g) => (
            <tr class="utrecht-table__row">
              <Td>
                {ROLE_LABELS[g.role]} — {purposeLabel(g.purpose)}
              </Td>
              <Td>{g.replayed.toLocaleString('nl-NL')}</Td>
              <Td>{g.changed.toLocaleString('nl-NL')}</Td>
              <Td>{g.accessGranted.toLocaleString('nl-NL')}</Td>
              <Td>{g.accessRefused.toLocaleString('nl-NL')}</Td>
              <Td>{fieldCounts(g.newlyReleased)}</Td>
              <Td>{fieldCounts(g.newlyWithheld)}</Td>
            </tr>
          ))}
        </DataTable>
      )}
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={`/beheer/beleid/${props.id}`}>
          Terug naar versie {props.id}
        </a>
      </p>
    </ConsolePage>
  );
}

/** `GET /beheer/beleid/:id/goedkeuren`: log in again first, or (just after) the approval itself. */
export function ApprovePage(props: Frame & { version: PolicyVersionSummary; fresh: boolean; isAuthor: boolean }) {
  const v = props.version;
  return (
    <ConsolePage title={`Versie ${v.id} goedkeuren`} {...props}>
      <h1 class="utrecht-heading-1">Versie {v.id} goedkeuren</h1>
      {v.status !== 'draft' ? (
        <Alert kind="info">Versie {v.id} is geen concept meer; er valt niets goed te keuren.</Alert>
      ) : props.isAuthor ? (
        <Alert kind="warning" title="U kunt uw eigen voorstel niet goedkeuren">
          <p class="utrecht-paragraph">Een andere privacy officer van Werkzaak moet deze versie goedkeuren (vier ogen).</p>
        </Alert>
      ) : props.fresh ? (
        <>
          <Alert kind="ok">U bent zojuist opnieuw ingelogd. Na het goedkeuren geldt versie {v.id} direct voor elke volgende raadpleging.</Alert>
          <form method="post" action={`/beheer/beleid/${v.id}/goedkeuren`} class="doelpoort-form">
            <Csrf session={props.session} />
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Versie {v.id} goedkeuren en laten gelden
            </button>
          </form>
        </>
      ) : (
        <>
          <p class="utrecht-paragraph">
            Goedkeuren verandert wat iedereen te zien krijgt. Daarom logt u eerst opnieuw in bij uw inlogdienst; daarna komt u hier terug en keurt u goed.
          </p>
          <form method="post" action={`/beheer/beleid/${v.id}/opnieuw-inloggen`} class="doelpoort-form">
            <Csrf session={props.session} />
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Opnieuw inloggen om goed te keuren
            </button>
          </form>
        </>
      )}
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href={`/beheer/beleid/${v.id}`}>
          Terug naar versie {v.id}
        </a>
      </p>
    </ConsolePage>
  );
}
