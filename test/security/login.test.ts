import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changePassword, logIn, logInWithRecoveryKey, proveIdentity, signUp } from '../../src/client/account.js';
import { type Challenge, createApiClient } from '../../src/client/api.js';
import {
  derivePasswordSecrets,
  deriveRecoverySecrets,
  parseRecoveryKey,
  rewrapForPassword,
} from '../../src/client/crypto/account-keys.js';
import { fromBase64Url, toBase64Url } from '../../src/protocol/encoding.js';
import { deriveRootKey } from '../../src/client/crypto/kdf.js';
import { accounts, sessions } from '../../src/db/schema.js';
import { createTestApp, TEST_KDF, TEST_ORIGIN, type TestApp, uniqueEmail } from '../harness.js';
import {
  attemptLogin, expectError, freshAddress, json, loginSeedFor, postLogin, randomId, randomSeed,
  requestChallenge, signFor, signUpAndLogIn,
} from './helpers.js';

let t: TestApp;
beforeEach(() => {
  t = createTestApp();
});
afterEach(() => t.close());

const challengeOf = async (email: string, address: string, method: 'password' | 'recovery' = 'password') => {
  const res = await requestChallenge(t, email, address, method);
  expect(res.status).toBe(200);
  return json<Challenge>(res);
};

/** The type of every leaf, so two responses can be compared for shape without their values. */
const shapeOf = (value: unknown): unknown =>
  value && typeof value === 'object'
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shapeOf(v)]))
    : typeof value;

const sessionCount = async (accountId: string) =>
  (await t.deps.db.select().from(sessions).where(eq(sessions.accountId, accountId))).length;

describe('errors', () => {
  it('an expired challenge is refused as challenge_invalid, even with a good signature', async () => {
    const m = await signUpAndLogIn(t);
    const address = freshAddress();
    const issuedAt = t.clock.now();
    const early = await challengeOf(m.email, address);
    const late = await challengeOf(m.email, address);
    expect(late.expiresAt).toBe(issuedAt + 120_000);
    const seed = await loginSeedFor(late, m.password);

    t.clock.advance(119_000);
    expect((await postLogin(t, signFor(early, seed), address)).status).toBe(200);
    t.clock.advance(1_000);
    await expectError(postLogin(t, signFor(late, seed), address), 401, 'challenge_invalid');
  });

  it('a challenge is single-use: replaying the same signed proof is refused', async () => {
    const m = await signUpAndLogIn(t);
    const address = freshAddress();
    const challenge = await challengeOf(m.email, address);
    const proof = signFor(challenge, await loginSeedFor(challenge, m.password));
    const before = await sessionCount(m.accountId);

    expect((await postLogin(t, proof, address)).status).toBe(200);
    await expectError(postLogin(t, proof, address), 401, 'challenge_invalid');
    await expectError(postLogin(t, proof, freshAddress(), 'cookie'), 401, 'challenge_invalid');
    expect(await sessionCount(m.accountId)).toBe(before + 1);
  });

  it('an unknown challenge id is challenge_invalid', async () => {
    const proof = { challengeId: randomId(), signature: toBase64Url(new Uint8Array(64).fill(1)) };
    await expectError(postLogin(t, proof, freshAddress()), 401, 'challenge_invalid');
  });

  it('a signature by the wrong key (wrong password) is invalid_credentials', async () => {
    const m = await signUpAndLogIn(t);
    await expect(logIn(t.api(), { email: m.email, password: `${m.password}!` })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_credentials',
    });
  });

  it('a signature over another origin is refused; the same key over ours is accepted', async () => {
    const m = await signUpAndLogIn(t);
    const address = freshAddress();
    const first = await challengeOf(m.email, address);
    const seed = await loginSeedFor(first, m.password);
    await expectError(postLogin(t, signFor(first, seed, 'https://evil.example'), address), 401, 'invalid_credentials');
    const second = await challengeOf(m.email, address);
    expect((await postLogin(t, signFor(second, seed, TEST_ORIGIN), address)).status).toBe(200);
  });

  it('a proof signed with the old password is refused once the password has changed', async () => {
    const m = await signUpAndLogIn(t);
    const address = freshAddress();
    const before = await challengeOf(m.email, address);
    const staleProof = signFor(before, await loginSeedFor(before, m.password));
    await changePassword(m.api, {
      accountId: m.accountId, email: m.email, masterKey: m.masterKey, currentPassword: m.password, newPassword: 'fresh', kdf: TEST_KDF,
    });
    await expectError(postLogin(t, staleProof, address), 401, 'invalid_credentials');
  });

  it("a challenge issued for A and signed with B's key is refused", async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    const address = freshAddress();
    const bSeed = await loginSeedFor(await challengeOf(b.email, address), b.password);
    const forA = await challengeOf(a.email, address);
    await expectError(postLogin(t, signFor(forA, bSeed), address), 401, 'invalid_credentials');
  });
});

describe('security', () => {
  it("a proof made by A cannot reauthenticate B's session or change B's password", async () => {
    const a = await signUpAndLogIn(t);
    const b = await signUpAndLogIn(t);
    const bLaptop = t.api();
    await logIn(bLaptop, { email: b.email, password: b.password });
    t.clock.advance(10 * 60_000);
    const rowBefore = (await t.deps.db.select().from(accounts).where(eq(accounts.id, b.accountId)))[0];
    const reauthBefore = (await b.api.currentSession()).reauthenticatedAt;

    const proofA = await proveIdentity(t.api(), { email: a.email, password: a.password });
    await expect(b.api.reauthenticate(proofA)).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
    expect((await b.api.currentSession()).reauthenticatedAt).toBe(reauthBefore);

    const rewrapped = await rewrapForPassword({ accountId: b.accountId, masterKey: b.masterKey, password: 'attacker', kdf: TEST_KDF });
    const { loginSeed: _, ...keys } = rewrapped;
    const proofA2 = await proveIdentity(t.api(), { email: a.email, password: a.password });
    await expect(b.api.changePassword({ proof: proofA2, ...keys })).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });

    expect((await t.deps.db.select().from(accounts).where(eq(accounts.id, b.accountId)))[0]).toEqual(rowBefore);
    expect((await bLaptop.account()).accountId).toBe(b.accountId);
    await expect(logIn(t.api(), { email: b.email, password: 'attacker' })).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect((await logIn(t.api(), { email: b.email, password: b.password })).response.accountId).toBe(b.accountId);
    // Control: the same kind of proof, made by A, does work for A.
    const proofA3 = await proveIdentity(t.api(), { email: a.email, password: a.password });
    expect((await a.api.reauthenticate(proofA3)).reauthenticatedAt).toBe(t.clock.now());
  });

  it('an unknown email gets a decoy: same shape, stable salt per email, the one parameter set accounts here use', async () => {
    const email = uniqueEmail('known');
    await signUp(t.api(), { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
    const address = freshAddress();
    const ghost = uniqueEmail('ghost');
    const known = await challengeOf(email, address);
    const u1 = await challengeOf(ghost, address);
    const u2 = await challengeOf(ghost, address);
    const other = await challengeOf(uniqueEmail('ghost'), address);
    const shouted = await challengeOf(ghost.toUpperCase(), address);

    expect(shapeOf(u1)).toEqual(shapeOf(known));
    expect(u1.challengeId.length).toBe(known.challengeId.length);
    expect(u1.challenge.length).toBe(known.challenge.length);
    expect(u1.kdf!.salt).toBe(u2.kdf!.salt);
    expect(u1.challengeId).not.toBe(u2.challengeId);
    expect(other.kdf!.salt).not.toBe(u1.kdf!.salt);
    expect(shouted.kdf!.salt).toBe(u1.kdf!.salt);
    expect(fromBase64Url(u1.kdf!.salt)).toHaveLength(fromBase64Url(known.kdf!.salt).length);
    expect({ opsLimit: u1.kdf!.opsLimit, memLimit: u1.kdf!.memLimit }).toEqual(t.deps.config.kdfMinimum);
    expect(t.deps.config.kdfMinimum).toEqual(TEST_KDF);

    const knownRecovery = await challengeOf(email, address, 'recovery');
    const ghostRecovery = await challengeOf(ghost, address, 'recovery');
    expect(shapeOf(ghostRecovery)).toEqual(shapeOf(knownRecovery));
    expect(ghostRecovery.kdf).toBeUndefined();
  });

  it('decoys for unknown emails carry the parameter sets real accounts use, so no account stands out by its own', async () => {
    const stronger = { opsLimit: 2, memLimit: 16384 };
    for (const kdf of [TEST_KDF, TEST_KDF, stronger, stronger]) await signUp(t.api(), { birthYear: 1990, email: uniqueEmail(), password: 'pw', kdf });
    const paramsOf = async (email: string) => {
      const { kdf } = await challengeOf(email, freshAddress());
      return { opsLimit: kdf!.opsLimit, memLimit: kdf!.memLimit };
    };
    const ghosts = Array.from({ length: 40 }, () => uniqueEmail('ghost'));
    const first = [];
    for (const ghost of ghosts) first.push(await paramsOf(ghost));
    const seen = new Set(first.map((p) => JSON.stringify(p)));
    expect(seen).toEqual(new Set([JSON.stringify(TEST_KDF), JSON.stringify(stronger)]));
    for (const [i, ghost] of ghosts.entries()) expect(await paramsOf(ghost)).toEqual(first[i]);
  });

  it('unknown account + any signature fails exactly like known account + wrong signature', async () => {
    const m = await signUpAndLogIn(t);
    const known = await expectError(attemptLogin(t, { email: m.email, password: 'wrong', address: freshAddress() }), 401, 'invalid_credentials');
    const unknown = await expectError(attemptLogin(t, { email: uniqueEmail(), password: 'wrong', address: freshAddress() }), 401, 'invalid_credentials');
    const ghost = await challengeOf(uniqueEmail(), freshAddress());
    const random = await expectError(postLogin(t, signFor(ghost, randomSeed()), freshAddress()), 401, 'invalid_credentials');
    expect(unknown.message).toBe(known.message);
    expect(random.message).toBe(known.message);
    expect(unknown.headers.get('Retry-After')).toBe(known.headers.get('Retry-After'));
  });

  it('the SDK never sends the password or anything derived from it but public keys and wrapped keys', async () => {
    const bodies: string[] = [];
    const api = createApiClient({
      baseUrl: TEST_ORIGIN,
      fetch: (input, init) => {
        if (typeof init.body === 'string') bodies.push(init.body);
        return t.app.request(input, init);
      },
    });
    const email = uniqueEmail();
    const password = 'Tr0ub4dor&3 correct-horse';
    const newPassword = 'battery staple 9!x';
    const { accountId, recoveryKey } = await signUp(api, { birthYear: 1990, email, password, kdf: TEST_KDF });
    const { keys } = await logIn(api, { email, password });
    await api.reauthenticate(await proveIdentity(api, { email, password }));
    await changePassword(api, { accountId, email, masterKey: keys.masterKey, currentPassword: password, newPassword, kdf: TEST_KDF });
    await logInWithRecoveryKey(api, { email, recoveryKey });
    await logIn(api, { email, password: newPassword });

    const signup = JSON.parse(bodies[0]!);
    const change = JSON.parse(bodies.find((b) => b.includes('"proof"'))!);
    const secretBytes: Uint8Array[] = [keys.masterKey, parseRecoveryKey(recoveryKey)];
    for (const [pw, kdf] of [[password, signup.kdf], [newPassword, change.kdf]] as const) {
      const params = { salt: fromBase64Url(kdf.salt), opsLimit: kdf.opsLimit, memLimit: kdf.memLimit };
      const derived = await derivePasswordSecrets(pw, params);
      secretBytes.push(await deriveRootKey(pw, params), derived.kek, derived.loginSeed);
    }
    const recovery = deriveRecoverySecrets(parseRecoveryKey(recoveryKey));
    secretBytes.push(recovery.kek, recovery.loginSeed);
    const forbidden = [password, newPassword, recoveryKey, recoveryKey.replace(/-/g, '')];
    for (const bytes of secretBytes) {
      forbidden.push(toBase64Url(bytes), Buffer.from(bytes).toString('base64'), Buffer.from(bytes).toString('hex'));
    }

    expect(bodies.length).toBeGreaterThanOrEqual(11);
    expect(bodies.join('\n')).toContain(signup.loginPublicKey); // the recorder does see what is sent
    for (const body of bodies) for (const secret of forbidden) expect(body).not.toContain(secret);
  });

  it("a recovery login returns the recovery-wrapped master key and not the password-wrapped one", async () => {
    const m = await signUpAndLogIn(t);
    expect(Object.keys((await logIn(t.api(), { email: m.email, password: m.password })).response.keys)).toContain('wrappedMasterKey');
    const { response } = await logInWithRecoveryKey(t.api(), { email: m.email, recoveryKey: m.recoveryKey });
    expect(response.method).toBe('recovery');
    expect(Object.keys(response.keys)).toContain('recoveryWrappedMasterKey');
    expect(Object.keys(response.keys)).not.toContain('wrappedMasterKey');
  });
});
