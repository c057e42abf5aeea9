import { z } from 'zod';
import { DAY_MS, isoDate } from './clock.js';
import { ORGANISATION_PATTERN, type Overdracht, type SuiteRecord } from './records/suite-record.js';

/** The roles a login may carry (claim `role`). */
export const ROLES = ['participatiecoach', 'werkcoach', 'schuldhulpverlener', 'privacy-officer'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/** An organisation (claim `org`): Werkzaak, or a municipality by CBS code. */
export const organisationSchema = z.string().regex(ORGANISATION_PATTERN);

/**
 * The purposes (doelbinding) of domain.md. Each is also a processing activity in the register, with a stable id that
 * goes into the token, the decision and the audit line. `optional`: a token without a client serves the purpose's
 * list (the handover inbox, the KP4 clients, the debt counsellor's caseload) and reads no record or document itself.
 */
export const PURPOSES = {
  'overdracht-kp4': { roles: ['participatiecoach'], client: 'optional', processingActivityId: 'WZR-VA-011', label: 'Overdracht KP3 naar KP4' },
  'begeleiding-kp4': { roles: ['participatiecoach'], client: 'optional', processingActivityId: 'WZR-VA-012', label: 'Begeleiding KP4' },
  'overdracht-kp3': { roles: ['werkcoach'], client: 'optional', processingActivityId: 'WZR-VA-013', label: 'Overdracht KP4 naar KP3' },
  schuldhulpverlening: { roles: ['schuldhulpverlener'], client: 'optional', processingActivityId: 'WZR-VA-021', label: 'Schuldhulpverlening' },
  toezicht: { roles: ['privacy-officer'], client: 'none', processingActivityId: 'WZR-VA-091', label: 'Toezicht op gegevensverwerking' },
  beleidsbeheer: { roles: ['privacy-officer'], client: 'none', processingActivityId: 'WZR-VA-092', label: 'Beheer van deelbeleid' },
} as const satisfies Record<string, { roles: readonly Role[]; client: 'optional' | 'none'; processingActivityId: string; label: string }>;

export type Purpose = keyof typeof PURPOSES;
export const PURPOSE_NAMES = Object.keys(PURPOSES) as [Purpose, ...Purpose[]];
export const purposeSchema = z.enum(PURPOSE_NAMES);

/** Whether `role` may ever ask for `purpose` (the relationship to a client is a separate question). */
export function purposeFitsRole(purpose: Purpose, role: Role): boolean {
  return (PURPOSES[purpose].roles as readonly Role[]).includes(role);
}

/** Which organisations a role belongs to (domain.md, Users): the token exchange and the web pages ask it alike. */
export function organisationFitsRole(role: Role, org: string): boolean {
  switch (role) {
    case 'participatiecoach':
    case 'schuldhulpverlener':
      return org.startsWith('GM');
    case 'werkcoach':
      return org === 'WERKZAAK';
    case 'privacy-officer':
      return true;
  }
}

/** Who is asking, as a verified access token says. */
export interface Requester {
  /** The issuer of the login: a person is (`issuer`, `sub`), never `sub` alone. */
  issuer: string;
  sub: string;
  role: Role;
  org: string;
  purpose: Purpose;
  /** The clientRef the token is bound to, when it is. */
  client?: string | undefined;
  /** The access token's `jti`. */
  tokenId?: string | undefined;
  /**
   * The registered client the request came through: the access token's `client_id` on the API, `doelpoort-web` in
   * the web application; absent on the command line, which is no OAuth client.
   */
  clientId?: string | undefined;
  /**
   * Set on an emergency-access (break-glass) token: the access it was granted under. Such a token reads its one client
   * without the purpose's relationship, decided by the policy's emergency rules only (src/noodtoegang/).
   */
  noodtoegang?: { id: string } | undefined;
}

/** Why a relationship does not hold; stable codes for the audit line. */
export type RelationshipReason =
  | 'NO_HANDOVER_TO_ORGANISATION'
  | 'HANDOVER_CLOSED'
  | 'CLIENT_NOT_KP4'
  | 'CLIENT_IN_OTHER_MUNICIPALITY'
  | 'NO_ACTIVE_TRAJECTORY'
  | 'PURPOSE_TAKES_NO_CLIENT';

export type Relationship = { holds: true; basis: string } | { holds: false; reason: RelationshipReason };

/** How long after a KP3→KP4 handover was completed the receiving coach may still use `overdracht-kp4`. */
const HANDOVER_WINDOW_DAYS = 90;

/** The purposes that rest on a handover, and the direction of the handovers each rests on. */
const HANDOVER_RICHTING = { 'overdracht-kp4': 'KP3-KP4', 'overdracht-kp3': 'KP4-KP3' } as const satisfies Partial<Record<Purpose, Overdracht['richting']>>;
export type HandoverPurpose = keyof typeof HANDOVER_RICHTING;

/** Which handovers are open for a handover purpose: to whom, in which direction, and which completed ones still count. */
export interface OpenHandovers {
  naarOrganisatie: string;
  richting: Overdracht['richting'];
  /** Handovers `afgerond` dated after this day (YYYY-MM-DD) are open too; null: only `aangevraagd` ones are. */
  afgerondAfter: string | null;
}

/**
 * The handovers to `org` on which a handover purpose rests on `today` (the rule relationship() applies, and the
 * inbox's question): `overdracht-kp4` a KP3→KP4 handover `aangevraagd`, or `afgerond` less than 90 days ago;
 * `overdracht-kp3` a KP4→KP3 handover `aangevraagd`.
 */
export function openHandovers(purpose: HandoverPurpose, org: string, today: string): OpenHandovers {
  // Fewer than 90 whole days from datum to today is datum > today − 90 days, compared as YYYY-MM-DD.
  const afgerondAfter = purpose === 'overdracht-kp4' ? isoDate(Date.parse(today) - HANDOVER_WINDOW_DAYS * DAY_MS) : null;
  return { naarOrganisatie: org, richting: HANDOVER_RICHTING[purpose], afgerondAfter };
}

const isOpen = (open: OpenHandovers, o: Overdracht) =>
  o.status === 'aangevraagd' || (o.status === 'afgerond' && open.afgerondAfter !== null && o.datum > open.afgerondAfter);

const activeOn = (p: { vanaf: string; tot?: string | null | undefined }, today: string) => p.vanaf <= today && (p.tot == null || p.tot >= today);

/**
 * The relationship that must exist between requester and client for a purpose (domain.md, purposes table), checked
 * on `today` against the current record. Checked at token exchange and again on every data request, so a token does
 * not outlive the handover or trajectory it was issued for.
 */
export function relationship(purpose: Purpose, requester: { org: string }, record: SuiteRecord, today: string): Relationship {
  const org = requester.org;
  // With several open handovers the newest is the basis (by datum, then id), whatever their order in the record.
  const newest = <T extends { datum: string; id: string }>(list: T[]) =>
    list.reduce<T | undefined>((n, o) => (!n || o.datum > n.datum || (o.datum === n.datum && o.id > n.id) ? o : n), undefined);
  switch (purpose) {
    case 'overdracht-kp4':
    case 'overdracht-kp3': {
      const rule = openHandovers(purpose, org, today);
      const toOrg = (record.overdrachten ?? []).filter((o) => o.richting === rule.richting && o.naarOrganisatie === org);
      if (toOrg.length === 0) return { holds: false, reason: 'NO_HANDOVER_TO_ORGANISATION' };
      const open = newest(toOrg.filter((o) => isOpen(rule, o)));
      return open ? { holds: true, basis: `overdrachten:${open.id}` } : { holds: false, reason: 'HANDOVER_CLOSED' };
    }
    case 'begeleiding-kp4': {
      const current = (record.klantprofielen ?? []).find((p) => activeOn(p, today));
      if (current?.profiel !== 'KP4') return { holds: false, reason: 'CLIENT_NOT_KP4' };
      return record.persoon.gemeente === org ? { holds: true, basis: 'persoon.gemeente' } : { holds: false, reason: 'CLIENT_IN_OTHER_MUNICIPALITY' };
    }
    case 'schuldhulpverlening': {
      const traject = (record.schuldhulptrajecten ?? []).find((t) => t.gemeente === org && activeOn(t, today));
      return traject ? { holds: true, basis: `schuldhulptrajecten:${traject.id}` } : { holds: false, reason: 'NO_ACTIVE_TRAJECTORY' };
    }
    case 'toezicht':
    case 'beleidsbeheer':
      return { holds: false, reason: 'PURPOSE_TAKES_NO_CLIENT' };
  }
}

/** Whether `org` is Werkzaak, the controller of the records, which could see every client. */
export function seesEveryClient(org: string): boolean {
  return org === 'WERKZAAK';
}

/**
 * Whether an organisation could see this client at all on `today`, whatever the purpose: the bound of a privacy
 * officer's tools (simulation on a real client, impact replay). Werkzaak could see every client; a municipality a
 * client living in it, with a handover to or from it dated by `today` (in any status), or with a debt-counselling
 * trajectory with it that has started by `today` (running or ended).
 */
export function organisationCouldSee(org: string, record: SuiteRecord, today: string): boolean {
  if (seesEveryClient(org)) return true;
  if (record.persoon.gemeente === org) return true;
  if ((record.overdrachten ?? []).some((o) => (o.naarOrganisatie === org || o.vanOrganisatie === org) && o.datum <= today)) return true;
  return (record.schuldhulptrajecten ?? []).some((t) => t.gemeente === org && t.vanaf <= today);
}
