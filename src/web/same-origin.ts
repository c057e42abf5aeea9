/**
 * Whether a state-changing request (a form post) comes from a page of `origin` itself, judged on what the browser
 * alone sets. `Origin` must equal `origin`; but every response carries `Referrer-Policy: no-referrer`, and under that
 * policy the Fetch standard has browsers send `Origin: null` with every form post, same-origin ones included. A
 * `null` origin is therefore accepted only together with `Sec-Fetch-Site: same-origin` (Fetch Metadata, sent by every
 * current browser and not settable by a page). A missing `Origin`, another origin, or `null` without that is refused.
 */
export function isSameOriginRequest(headers: { origin: string | undefined; secFetchSite: string | undefined }, origin: string): boolean {
  if (headers.origin === origin) return headers.secFetchSite === undefined || headers.secFetchSite === 'same-origin';
  return headers.origin === 'null' && headers.secFetchSite === 'same-origin';
}
