/**
 * The JWS algorithms doelpoort accepts from others (RFC 8725 §3.1): asymmetric only, so a public key can never be
 * abused as an HMAC secret and `none` is never an option.
 */
export const ASYMMETRIC_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

/** Clock skew tolerated on `exp`, `nbf` and `iat` of tokens from others, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 60;
