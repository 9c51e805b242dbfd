import { SESSION_COOKIE } from '../../src/protocol/headers.js';
import type { TestApp } from '../harness.js';

// Node has no cookie jar, so this fetch plays the browser's part for the SDK's client: it keeps
// what Set-Cookie sets and sends it back as Cookie, and records every request the client made.
// The jar outlives any one client, as a browser's does across a reload of the page.

export function browserFetch(t: TestApp) {
  let jar: string | undefined;
  const sent: { method: string; path: string; headers: Headers; credentials?: RequestCredentials }[] = [];
  const fetch = async (input: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    if (jar) headers.set('Cookie', jar);
    sent.push({ method: init.method ?? 'GET', path: new URL(input).pathname, headers, credentials: init.credentials });
    const response = await t.app.request(input, { ...init, headers });
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
    if (setCookie) jar = setCookie.split(';')[0];
    return response;
  };
  return { fetch, sent };
}
