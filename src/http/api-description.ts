import type { OpenAPIHono } from '@hono/zod-openapi';
import { codesForStatus, ERROR_STATUS, type ErrorStatus } from '../protocol/errors.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../protocol/headers.js';
import { STATUS_DESCRIPTIONS } from './openapi.js';

// What /openapi.json says before its operations: the introduction a developer reads first (as
// Markdown; /docs shows its headings in the side menu) and how each credential is sent. The
// statements here restate src/http/bearer.ts, src/features/sessions/middleware.ts and
// src/features/devices/middleware.ts; test/http/api-description.test.ts holds them to the server.

/** The error table, from the one list of codes and statuses (src/protocol/errors.ts). */
function errorTable(): string {
  const statuses = [...new Set(Object.values(ERROR_STATUS))].sort((a, b) => a - b) as ErrorStatus[];
  const rows = statuses.map((status) => `| ${status} | ${codesForStatus(status).map((code) => `\`${code}\``).join(', ')} | ${STATUS_DESCRIPTIONS[status]} |`);
  return ['| status | codes | meaning |', '|---|---|---|', ...rows].join('\n');
}

export const API_DESCRIPTION = `Self-hostable backend for phones: end-to-end-encrypted sync, Find Device and SIM-change verification. The server never holds a key that opens user content: items, blobs, locations and lock messages are encrypted on the device or in the browser, and the formats are in docs/CRYPTO.md.

This reference is drawn from [/openapi.json](/openapi.json) (OpenAPI 3.1), which the server generates from its own route definitions. Bodies are JSON (\`Content-Type: application/json\`) unless an operation says otherwise; ids are 22 base64url characters; times are Unix milliseconds.

# Authentication

Each operation names the credential it takes. Those naming none are public: sign-up and its confirmation, the login challenge and login, a guardian's deletion request, deletion receipts, the privacy policy, the server's public keys, Twilio's SMS webhook and \`/healthz\`. Logging in never sends the password: \`POST /v1/auth/challenge\` hands out a challenge, the client signs it with a key derived from the password, and \`POST /v1/auth/login\` turns the signature into a session.

- **session**: \`Authorization: Bearer hs_…\`, for apps and the device CLI.
- **sessionCookie**: the web page's HttpOnly cookie, plus the \`${CSRF_HEADER}\` header on every change.
- **deviceToken**: \`Authorization: Bearer hd_…\`, a phone acting for itself on the \`/v1/device/…\` operations.

A missing, expired or revoked credential gets \`401 unauthorized\`; an operation that needs the password proved again (wipe, export) gets \`401 reauthentication_required\` until \`POST /v1/auth/reauthenticate\` is done within the last 5 minutes.

<!-- ReDoc-Inject: <security-definitions> -->

# Errors

Every error has one shape, whatever the operation:

\`\`\`json
{ "error": { "code": "not_found", "message": "no such device", "requestId": "2mQ4cVtq0Xb1" } }
\`\`\`

\`code\` is one of a closed set (the \`ErrorCode\` schema), and each code always comes with the same status: switch on \`code\`, show \`message\` to people, and quote \`requestId\` when reporting a problem (the server logs under it). \`details\` is present on a few codes only, such as the current versions on \`version_conflict\`. "Not yours" and "does not exist" get the same \`404 not_found\`. Each operation lists every status it can answer, and under each status the codes it carries.

${errorTable()}

# Rate limits and retries

Every operation that changes something, the location reads and the export count against a rate-limit bucket (per account, per device or per client address); login and SIM-code guesses have stricter limits of their own. A refused request gets \`429 rate_limited\` with \`Retry-After\`: the seconds to wait before trying again. A \`503\` (\`service_unavailable\`, \`storage_full\`, \`database_busy\`) means nothing was saved and carries \`Retry-After\` too.

# Pagination

Lists that grow are read in pages with an opaque cursor: pass back what the previous page returned, unchanged, and \`limit\` for the page size.

- \`GET /v1/sync/changes\`: \`since=\` the page's \`cursor\` (0 for everything) while \`hasMore\` is true. A cursor older than the deletions the server keeps gets \`410 cursor_expired\`: sync again from 0.
- \`GET /v1/account/audit\`: \`cursor=\` the page's \`nextCursor\`, absent on the last page.
- \`GET /v1/account/consents/history\`: \`cursor=\` the page's \`nextCursor\`, null on the last page.
- \`GET /v1/account/diagnostics\`: \`cursor=\` the page's \`cursor\`, null on the last page.
- \`GET /v1/device/spam/blocklist\`: \`since=\` the answer's \`version\` (0 for the whole list); \`reset: true\` means drop the cached list and keep this one.
`;

const SESSION_SCHEME = `An account session for apps and the device CLI. \`POST /v1/auth/login\` with \`"session": "bearer"\` (the default) returns its token once, as \`session.token\`. Send it on every request:

    Authorization: Bearer hs_…

It ends at \`session.expiresAt\`, sooner when left unused for a while, at \`POST /v1/auth/logout\`, or when revoked (\`DELETE /v1/sessions/{sessionId}\`, \`POST /v1/sessions/revoke-others\`); a session logged in with a phone's \`deviceToken\` also ends when that device is removed. It needs no CSRF token: a browser never sends this header on its own.`;

const COOKIE_SCHEME = `The web page's session. \`POST /v1/auth/login\` with \`"session": "cookie"\` sets the HttpOnly cookie \`${SESSION_COOKIE}\` (Secure, SameSite=Strict, path /) and returns \`session.csrfToken\`; \`GET /v1/auth/session\` returns that token again, for instance after a reload. The browser sends the cookie by itself. Every request that changes something (any method but GET, HEAD and OPTIONS) must also carry the token in a header:

    ${CSRF_HEADER}: <session.csrfToken>

and, when the browser sends an \`Origin\`, come from this server's own origin; otherwise it gets \`403 csrf_failed\`. When a request carries both, the bearer token is used and the cookie ignored; a cookie session's token is never accepted as a bearer token, nor the reverse.`;

const DEVICE_SCHEME = `A phone's own credential. \`POST /v1/devices\` (with an account session) registers the phone and returns its token once, as \`token\`. The phone sends it on the \`/v1/device/…\` operations:

    Authorization: Bearer hd_…

It acts for that one device alone, needs no CSRF token, and stops working when the device is removed (\`DELETE /v1/devices/{deviceId}\`) or registered again (the new token replaces it).`;

/** The three credentials, named as the operations' \`security\` names them (src/http/router.ts). */
export function registerSecuritySchemes(registry: Pick<OpenAPIHono['openAPIRegistry'], 'registerComponent'>) {
  registry.registerComponent('securitySchemes', 'session', { type: 'http', scheme: 'bearer', description: SESSION_SCHEME });
  registry.registerComponent('securitySchemes', 'sessionCookie', { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: COOKIE_SCHEME });
  registry.registerComponent('securitySchemes', 'deviceToken', { type: 'http', scheme: 'bearer', description: DEVICE_SCHEME });
}
