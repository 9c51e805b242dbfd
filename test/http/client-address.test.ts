import { afterEach, describe, expect, it } from 'vitest';
import { uniqueEmail, createTestApp, type TestApp } from '../harness.js';
import { expectError } from '../security/helpers.js';

// Per-address abuse limits are only as good as the address they key on. These use the
// challenge limit (30 a minute per address), the cheapest limit to reach.

let t: TestApp;
afterEach(() => t.close());

const challenge = (headers: Record<string, string>) =>
  t.request('POST', '/v1/auth/challenge', { body: { email: uniqueEmail() }, headers });

async function thirtyFirstFrom(headersFor: (i: number) => Record<string, string>) {
  for (let i = 0; i < 30; i++) expect((await challenge(headersFor(i))).status).toBe(200);
  return challenge(headersFor(30));
}

describe('security', () => {
  it('ignores X-Forwarded-For unless the operator trusts a proxy header', async () => {
    t = createTestApp({ TRUST_PROXY_HEADER: '' });
    expect(t.deps.config.trustProxyHeader).toBeUndefined();
    await expectError(thirtyFirstFrom((i) => ({ 'X-Forwarded-For': `192.0.2.${i}` })), 429, 'rate_limited');
  });

  it('keys on the address the trusted proxy added, not on entries the client prepended', async () => {
    // A proxy that appends (nginx $proxy_add_x_forwarded_for, most load balancers) forwards
    // "<whatever the client sent>, <real peer>". Only the last entry is the proxy's own word.
    t = createTestApp({ TRUST_PROXY_HEADER: 'x-forwarded-for' });
    const realClient = '198.51.100.7';
    await expectError(
      thirtyFirstFrom((i) => ({ 'X-Forwarded-For': `10.9.8.${i}, ${realClient}` })),
      429,
      'rate_limited',
    );
  });

  it('still tells real clients apart behind the trusted proxy', async () => {
    t = createTestApp({ TRUST_PROXY_HEADER: 'x-forwarded-for' });
    await expectError(thirtyFirstFrom(() => ({ 'X-Forwarded-For': '198.51.100.8' })), 429, 'rate_limited');
    expect((await challenge({ 'X-Forwarded-For': '198.51.100.9' })).status).toBe(200);
  });
});
