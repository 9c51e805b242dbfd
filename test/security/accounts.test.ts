import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccountKeys } from '../../src/client/crypto/account-keys.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { accounts } from '../../src/db/schema.js';
import { createTestApp, TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { attemptLogin, checkpoint, expectError, freshAddress, json, requestChallenge, signUpAndLogIn } from './helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t?.close());

let phoneCounter = 0;
const uniquePhone = () => `+44770090${String(++phoneCounter).padStart(4, '0')}`;

/** A complete, valid sign-up body made the way the SDK makes one. */
async function signupBody(email: string, phoneNumber?: string, kdf = TEST_KDF) {
  const accountId = toBase64Url(randomBytes(16));
  const { bundle } = await createAccountKeys({ accountId, password: 'pw', kdf });
  return { accountId, email, birthYear: 1990, ...(phoneNumber ? { phoneNumber } : {}), ...bundle };
}

const postSignup = (app: TestApp, body: unknown, address = 'signup-default') =>
  app.request('POST', '/v1/accounts', { body, headers: { 'X-Forwarded-For': address } });

const accountCount = async (app: TestApp = t) => (await app.deps.db.select().from(accounts)).length;

describe('security', () => {
  it('never stores the email or phone number in plaintext, in any column or anywhere in the file', async () => {
    const email = `Ada.Lovelace.${Date.now()}@Example.ORG`;
    const phoneNumber = '+447700900123';
    const m = await signUpAndLogIn(t, { email, phoneNumber });
    // Challenges, failed logins and throttles for the email and the phone-bearing account.
    await attemptLogin(t, { email, password: 'wrong', address: freshAddress() });
    await attemptLogin(t, { email: email.toLowerCase(), password: m.password, address: freshAddress() });
    await requestChallenge(t, `ghost.${email}`, freshAddress());
    expect((await m.api.account()).phoneNumber).toBe(phoneNumber);

    const forbidden = [email, email.toLowerCase(), `ghost.${email}`.toLowerCase(), phoneNumber, phoneNumber.slice(1)];
    const rows = await t.deps.db.select().from(accounts);
    expect(rows).toHaveLength(1);
    for (const value of Object.values(rows[0]!)) {
      for (const secret of forbidden) expect(String(value).toLowerCase()).not.toContain(secret.toLowerCase());
    }

    checkpoint(t);
    const files = ['homing.db', 'homing.db-wal'].map((f) => join(t.dir, f)).filter(existsSync);
    const bytes = files.map((f) => readFileSync(f).toString('latin1')).join('\n');
    expect(bytes).toContain(m.accountId); // the scan does see what is stored
    for (const secret of forbidden) {
      expect(bytes).not.toContain(secret);
      expect(bytes.toLowerCase()).not.toContain(secret.toLowerCase());
    }
    for (const line of t.logLines) for (const secret of forbidden) expect(line.toLowerCase()).not.toContain(secret.toLowerCase());
  });

  it('refuses a second account for the same email, whatever its case or surrounding spaces', async () => {
    const email = uniqueEmail('dup');
    expect((await postSignup(t, await signupBody(email))).status).toBe(201);
    await expectError(postSignup(t, await signupBody(email.toUpperCase())), 409, 'conflict');
    const mixed = email.replace(/^./, (c) => c.toUpperCase()).replace('example.org', 'Example.Org');
    await expectError(postSignup(t, await signupBody(mixed)), 409, 'conflict');
    await expectError(postSignup(t, await signupBody(`  ${email} `)), 409, 'conflict');
    expect(await accountCount()).toBe(1);
  });

  it('refuses a second account for the same phone number', async () => {
    const phone = uniquePhone();
    expect((await postSignup(t, await signupBody(uniqueEmail(), phone))).status).toBe(201);
    await expectError(postSignup(t, await signupBody(uniqueEmail(), phone)), 409, 'conflict');
    expect(await accountCount()).toBe(1);
    // Control: a different number is fine.
    expect((await postSignup(t, await signupBody(uniqueEmail(), uniquePhone()))).status).toBe(201);
  });

  it('limits sign-ups to 10 an hour per address', async () => {
    const address = freshAddress();
    for (let i = 0; i < 10; i++) expect((await postSignup(t, await signupBody(uniqueEmail()), address)).status).toBe(201);
    const limited = await expectError(postSignup(t, await signupBody(uniqueEmail()), address), 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await accountCount()).toBe(10);

    expect((await postSignup(t, await signupBody(uniqueEmail()), freshAddress())).status).toBe(201);
    t.clock.advance(retryAfter * 1000);
    expect((await postSignup(t, await signupBody(uniqueEmail()), address)).status).toBe(201);
  });
});

describe('errors', () => {
  it("refuses KDF parameters below the server's minimum, naming body.kdf", async () => {
    const strict = createTestApp({ KDF_MIN_MEM_LIMIT: '65536' });
    try {
      const refused = await expectError(postSignup(strict, await signupBody(uniqueEmail(), undefined, TEST_KDF)), 400, 'validation_failed');
      expect(refused.message).toContain('body.kdf');
      expect(await accountCount(strict)).toBe(0);
      const ok = await postSignup(strict, await signupBody(uniqueEmail(), undefined, { opsLimit: 1, memLimit: 65536 }));
      expect(ok.status).toBe(201);
      expect((await json(ok)).accountId).toEqual(expect.any(String));
    } finally {
      strict.close();
    }
  });
});
