const SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * Whether `token` is a compact JWS in its one canonical spelling: three unpadded base64url segments, each of which
 * re-encodes to itself. jose tolerates `==` appended and non-zero unused bits in the last character, so without this
 * one token would have several spellings, and each would be a separate key of the verified-token cache.
 */
export function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  if (segments.length !== 3) return false;
  return segments.every((s) => SEGMENT.test(s) && Buffer.from(s, 'base64url').toString('base64url') === s);
}
