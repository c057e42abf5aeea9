import type { Child } from 'hono/jsx';
import type { WebSession } from '../../http/env.js';
import { PURPOSES, type Purpose } from '../../purposes.js';
import { type NavItem, Page } from '../layout.js';
import { pageUser } from '../login-pages.js';

/** The building blocks of the console's pages: the frame with its navigation, messages, times, tables and bars. */

/** The console's sections, in the order of the navigation. */
const SECTIONS: ReadonlyArray<{ href: string; label: string }> = [
  { href: '/beheer', label: 'Overzicht' },
  { href: '/beheer/auditlog', label: 'Auditlog' },
  { href: '/beheer/beleid', label: 'Deelbeleid' },
  { href: '/beheer/inzage', label: 'Inzageverzoek' },
  { href: '/beheer/noodtoegang', label: 'Noodtoegang' },
  { href: '/beheer/toezicht', label: 'Toezicht' },
];

/** The navigation with `current` marked (the longest section that prefixes it). */
function nav(current: string): NavItem[] {
  const match = SECTIONS.filter((s) => current === s.href || current.startsWith(`${s.href}/`)).at(-1)?.href;
  return SECTIONS.map((s) => ({ ...s, current: s.href === match }));
}

/** A console page: the common frame, who is logged in, and the console's navigation. */
export function ConsolePage(props: { title: string; nonce: string; session: WebSession; path: string; children?: Child }) {
  return (
    <Page title={props.title} nonce={props.nonce} user={pageUser(props.session.login, props.session.csrfToken)} nav={nav(props.path)}>
      {props.children}
    </Page>
  );
}

/** An alert: `error` for what went wrong, `ok` for what was done, `info` beside. */
export function Alert(props: { kind: 'error' | 'ok' | 'info' | 'warning'; title?: string; children?: Child }) {
  const modifier = { error: 'error', ok: 'ok', info: 'info', warning: 'warning' }[props.kind];
  return (
    <div class={`utrecht-alert utrecht-alert--${modifier}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      <div class="utrecht-alert__content">
        {props.title ? <p class="utrecht-alert__title utrecht-paragraph doelpoort-strong">{props.title}</p> : null}
        <div class="utrecht-alert__message">{props.children}</div>
      </div>
    </div>
  );
}

/** The CSRF field every console form posts. */
export const Csrf = (props: { session: WebSession }) => <input type="hidden" name="csrf" value={props.session.csrfToken} />;

const DATE_TIME = new Intl.DateTimeFormat('nl-NL', { timeZone: 'Europe/Amsterdam', dateStyle: 'medium', timeStyle: 'medium' });
const DATE = new Intl.DateTimeFormat('nl-NL', { timeZone: 'Europe/Amsterdam', dateStyle: 'long' });

/** A moment as a Dutch reader expects it, in Dutch time; a `time` element carries the ISO value. */
export function When(props: { at: number | string | null | undefined; dateOnly?: boolean }) {
  if (props.at === null || props.at === undefined) return <span>—</span>;
  const ms = typeof props.at === 'number' ? props.at : Date.parse(props.at);
  if (Number.isNaN(ms)) return <span>{String(props.at)}</span>;
  return <time datetime={new Date(ms).toISOString()}>{(props.dateOnly ? DATE : DATE_TIME).format(ms)}</time>;
}

/** A purpose by its name in the register. */
export const purposeLabel = (purpose: string | null | undefined): string =>
  purpose && Object.hasOwn(PURPOSES, purpose) ? PURPOSES[purpose as Purpose].label : (purpose ?? '—');

/** The outcome of an audit line in words. */
export const OUTCOME_LABELS: Record<string, string> = { permit: 'Toegestaan', deny: 'Geweigerd', error: 'Fout' };

/**
 * A small horizontal bar chart in CSS (no script, no image): one bar per item, its width proportional to the largest,
 * with the number beside it; the numbers are the text alternative, so a screen reader reads a list of values.
 */
export function Bars(props: { label: string; items: ReadonlyArray<{ label: string; value: number; current?: boolean }> }) {
  const max = Math.max(1, ...props.items.map((i) => i.value));
  return (
    <ul class="doelpoort-bars" aria-label={props.label}>
      {props.items.map((i) => (
        <li class={i.current ? 'doelpoort-bars__item doelpoort-bars__item--current' : 'doelpoort-bars__item'}>
          <span class="doelpoort-bars__label">{i.label}</span>
          <span class="doelpoort-bars__track" aria-hidden="true">
            <span class={`doelpoort-bars__bar doelpoort-w-${Math.round((i.value / max) * 20) * 5}`} />
          </span>
          <span class="doelpoort-bars__value">{i.value.toLocaleString('nl-NL')}</span>
        </li>
      ))}
    </ul>
  );
}

/** A table in a horizontally scrolling region (a focusable one: keyboard users can scroll it). */
export function DataTable(props: { caption: string; head: string[]; children?: Child }) {
  return (
    <section class="doelpoort-table-scroll" aria-label={props.caption} tabindex={0}>
      <table class="utrecht-table">
        <caption class="utrecht-table__caption">{props.caption}</caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            {props.head.map((h) => (
              <th class="utrecht-table__header-cell" scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody class="utrecht-table__body">{props.children}</tbody>
      </table>
    </section>
  );
}

/** One cell of a DataTable row. */
export const Td = (props: { children?: Child }) => <td class="utrecht-table__cell">{props.children}</td>;
