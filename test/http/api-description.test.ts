import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/protocol/errors.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { createTestApp, type TestApp } from '../harness.js';
import { attemptLogin, expectError, freshAddress, json, signUpAndLogIn } from '../security/helpers.js';

// What /openapi.json tells a developer before its operations: how each credential is sent, and
// the introduction. The credential descriptions are followed here word for word, so a description
// that names the wrong header, prefix or cookie fails against the real server.

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

interface Scheme {
  type: string;
  scheme?: string;
  in?: string;
  name?: string;
  description: string;
}

const documentOf = async () => json(await t.request('GET', '/openapi.json'));

/** The indented request-header lines of a description, e.g. ["Authorization", "Bearer hs_…"]. */
const headerLines = (description: string) =>
  [...description.matchAll(/^ {4}([A-Za-z-]+): (.+)$/gm)].map((m) => [m[1]!, m[2]!] as const);

/** A header line with its placeholder (hs_…, <session.csrfToken>) filled in; the placeholder must fit the value. */
function filledIn([name, template]: readonly [string, string], value: string): Record<string, string> {
  const prefix = template.match(/^(.*?)(\w+_)…$/);
  if (prefix) {
    expect(value.startsWith(prefix[2]!)).toBe(true);
    return { [name]: `${prefix[1]}${value}` };
  }
  expect(template).toMatch(/^<[\w.]+>$/);
  return { [name]: value };
}

describe('how each credential is sent, as /openapi.json states it', () => {
  it('a bearer session sent as the session scheme says gets in; without it, 401', async () => {
    const scheme: Scheme = (await documentOf()).components.securitySchemes.session;
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    const lines = headerLines(scheme.description);
    expect(lines).toEqual([['Authorization', 'Bearer hs_…']]);
    const m = await signUpAndLogIn(t);
    expect((await t.request('GET', '/v1/account', { headers: filledIn(lines[0]!, m.token) })).status).toBe(200);
    await expectError(t.request('GET', '/v1/account'), 401, 'unauthorized');
  });

  it('a device token sent as the deviceToken scheme says acts for its device', async () => {
    const scheme: Scheme = (await documentOf()).components.securitySchemes.deviceToken;
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    const lines = headerLines(scheme.description);
    expect(lines).toEqual([['Authorization', 'Bearer hd_…']]);
    const m = await signUpAndLogIn(t);
    const registered = await m.api.registerDevice({ name: 'Pixel', model: 'Pixel 9', platform: 'android', identifierHash: toBase64Url(new Uint8Array(32).fill(7)) });
    const device = await t.request('GET', '/v1/device', { headers: filledIn(lines[0]!, registered.token) });
    expect(device.status).toBe(200);
    expect((await json(device)).id).toBe(registered.device.id);
  });

  it('a cookie session changes something only with the CSRF header the sessionCookie scheme names', async () => {
    const scheme: Scheme = (await documentOf()).components.securitySchemes.sessionCookie;
    expect(scheme).toMatchObject({ type: 'apiKey', in: 'cookie' });
    const lines = headerLines(scheme.description);
    expect(lines.map(([name]) => name)).toEqual(['X-CSRF-Token']);
    const m = await signUpAndLogIn(t);
    const login = await attemptLogin(t, { email: m.email, password: m.password, address: freshAddress(), session: 'cookie' });
    const cookieLine = login.headers.getSetCookie().find((line) => line.startsWith(`${scheme.name}=`));
    expect(cookieLine).toMatch(/HttpOnly/i);
    const cookie = { Cookie: cookieLine!.split(';')[0]! };
    const { session } = await json(login);
    expect(scheme.description).toContain('`session.csrfToken`');

    await expectError(t.request('POST', '/v1/auth/logout', { headers: cookie }), 403, 'csrf_failed');
    expect((await t.request('GET', '/v1/account', { headers: cookie })).status).toBe(200);
    const logout = await t.request('POST', '/v1/auth/logout', { headers: { ...cookie, ...filledIn(lines[0]!, session.csrfToken) } });
    expect(logout.status).toBe(204);
  });
});

describe('the introduction of /openapi.json', () => {
  it('covers authentication, every error code with its status, rate limits with Retry-After, and pagination cursors', async () => {
    const doc = await documentOf();
    const intro: string = doc.info.description;
    // Level-1 headings: the reference's side menu lists them before the operations.
    expect([...intro.matchAll(/^# (.+)$/gm)].map((m) => m[1])).toEqual(['Authentication', 'Errors', 'Rate limits and retries', 'Pagination']);
    // Where Redoc puts each scheme's description (and a plain Markdown reader sees nothing).
    expect(intro).toContain('<!-- ReDoc-Inject: <security-definitions> -->');
    for (const name of Object.keys(doc.components.securitySchemes)) expect(intro).toContain(`**${name}**`);
    for (const [code, status] of Object.entries(ERROR_STATUS)) expect(intro).toMatch(new RegExp(`^\\| ${status} \\|[^\\n]*\`${code}\``, 'm'));
    expect(intro).toContain('`429 rate_limited` with `Retry-After`');
    // Every cursor parameter the document has is explained.
    const paged = Object.entries(doc.paths as Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op.parameters?.some((p) => p.in === 'query' && (p.name === 'cursor' || p.name === 'since')))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(paged.length).toBeGreaterThan(0);
    for (const operation of paged) expect(intro).toContain(`\`${operation}\``);
  });
});
