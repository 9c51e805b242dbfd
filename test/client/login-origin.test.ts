import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logIn, logInWithRecoveryKey, proveIdentity, signUp } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

/**
 * A client whose traffic passes a hostile proxy: it answers every login challenge with the origin
 * rewritten to another server's (as when relaying that server's challenge), and records every
 * request the client sends.
 */
function behindProxy(challengeOrigin: string) {
  const sent: string[] = [];
  const api = createApiClient({
    baseUrl: TEST_ORIGIN,
    fetch: async (input, init) => {
      sent.push(`${init.method} ${new URL(input).pathname}`);
      const response = await t.app.request(input, init);
      if (new URL(input).pathname !== '/v1/auth/challenge' || !response.ok) return response;
      const challenge = await response.json();
      return Response.json({ ...challenge, origin: challengeOrigin }, { status: response.status });
    },
  });
  return { api, sent };
}

describe('login challenge origin', () => {
  it('refuses a challenge issued for another origin before signing anything: password, recovery key and re-authentication', async () => {
    const email = uniqueEmail();
    const { recoveryKey } = await signUp(t.api(), { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    const refusal = `the server asked for a signature for https://homing.evil.example, but this client talks to ${TEST_ORIGIN}`;

    const { api, sent } = behindProxy('https://homing.evil.example');
    await expect(logIn(api, { email, password: 'pw' })).rejects.toThrow(refusal);
    await expect(logInWithRecoveryKey(api, { email, recoveryKey })).rejects.toThrow(refusal);
    await expect(proveIdentity(api, { email, password: 'pw' })).rejects.toThrow(refusal);
    // Only challenges went out: no signature ever left the client.
    expect(sent).toEqual(Array(3).fill('POST /v1/auth/challenge'));
  });

  it('the same proxy passing the origin through unchanged logs in', async () => {
    const email = uniqueEmail();
    await signUp(t.api(), { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    const { api, sent } = behindProxy(TEST_ORIGIN);
    await expect(logIn(api, { email, password: 'pw' })).resolves.toMatchObject({ response: { session: { token: expect.any(String) } } });
    expect(sent).toEqual(['POST /v1/auth/challenge', 'POST /v1/auth/login']);
  });
});
