// Names both sides of the wire agree on outside the JSON bodies.

/** The web page's HttpOnly session cookie (the `__Host-` prefix pins it to this origin, Secure, path /). */
export const SESSION_COOKIE = '__Host-homing-session';

/** The web page's trusted-client token (an earlier login's), sent with its challenges and logins. */
export const TRUSTED_CLIENT_COOKIE = '__Host-homing-trusted-client';

/** Cookie sessions send their CSRF token in this header on every state-changing request. */
export const CSRF_HEADER = 'X-CSRF-Token';


/** The SHA-256 (lowercase hex) a blob upload declares; the server checks it as the bytes stream past. */
export const SHA256_HEADER = 'X-Homing-SHA256';
