import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signUp } from '../../src/client/account.js';
import { createAccountKeys } from '../../src/client/crypto/account-keys.js';
import { randomBytes, toBase64Url } from '../../src/protocol/encoding.js';
import { TEST_KDF, uniqueEmail } from '../harness.js';
import { CHILD_YEAR, type ChildWorld, childSignsUp, codeIn, createChildWorld, latestCode, rowCounts, waitForMail } from '../features/children-helpers.js';
import { apiAt, expectError, freshAddress, json, randomId, signUpAndLogIn } from './helpers.js';

// The children rules from the attacker's side: the child skipping the guardian, guessing or
// reusing codes, one sign-up's code aimed at another, a stranger probing who is pending or who a
// child's guardian is, and the flows used to flood a guardian's inbox.

let world: ChildWorld;
beforeEach(async () => {
  world = await createChildWorld();
});
afterEach(() => world.close());

/** A complete sign-up body as the SDK makes one, with the fields given changed. */
async function body(fields: Record<string, unknown> = {}) {
  const accountId = toBase64Url(randomBytes(16));
  const { bundle } = await createAccountKeys({ accountId, password: 'pw', kdf: TEST_KDF });
  return { accountId, email: uniqueEmail('child'), birthYear: CHILD_YEAR, guardian: { email: uniqueEmail('parent') }, ...bundle, ...fields };
}

const postSignup = (b: unknown, address = freshAddress()) =>
  world.t.request('POST', '/v1/accounts', { body: b, headers: { 'X-Forwarded-For': address } });

const confirm = (pendingSignupId: string, b: unknown, address = freshAddress()) =>
  world.t.request('POST', `/v1/accounts/pending/${pendingSignupId}/confirm`, { body: b, headers: { 'X-Forwarded-For': address } });

/** A refused code: 400 verification_failed (a wrong code's answer also says how many tries are left). */
async function codeRefused(res: Response | Promise<Response>) {
  const answer = await res;
  const { error } = await json<{ error: { code: string; message: string; details?: { attemptsLeft?: number } } }>(answer);
  expect({ status: answer.status, code: error.code }).toEqual({ status: 400, code: 'verification_failed' });
  return error;
}

const nothingStored = async () => expect(await rowCounts(world.t)).toEqual({ accounts: 0, pending: 0, guardianships: 0, codes: 0 });

describe('children: skipping the guardian', () => {
  it('a sign-up without birthYear is refused (it is required), and nothing is stored', async () => {
    const { birthYear: _omitted, ...withoutYear } = await body();
    const refused = await expectError(postSignup(withoutYear), 400, 'validation_failed');
    expect(refused.message).toMatch(/birthYear/);
    await nothingStored();
  });

  it('an under-14 sign-up without a guardian is refused with a message that says why, and nothing is stored', async () => {
    const { guardian: _omitted, ...withoutGuardian } = await body();
    const refused = await expectError(postSignup(withoutGuardian), 400, 'validation_failed');
    expect(refused.message).toMatch(/under 14.*guardian/);
    await nothingStored();
    expect(world.smtp.received).toHaveLength(0);
  });

  it("a child cannot name their own e-mail as the guardian, nor a birth year in the future", async () => {
    const email = uniqueEmail('child');
    await expectError(postSignup(await body({ email, guardian: { email: email.toUpperCase() } })), 400, 'validation_failed');
    await expectError(postSignup(await body({ birthYear: 2030 })), 400, 'validation_failed');
    await nothingStored();
  });

  it('confirming without a code, with an empty one or with a made-up verification id creates nothing', async () => {
    const child = await childSignsUp(world);
    const id = child.pending.pendingSignupId;
    await expectError(confirm(id, {}), 400, 'validation_failed');
    await expectError(confirm(id, { verificationId: child.pending.verificationId }), 400, 'validation_failed');
    await expectError(confirm(id, { verificationId: child.pending.verificationId, code: '' }), 400, 'validation_failed');
    await codeRefused(confirm(id, { verificationId: randomId(), code: latestCode(world, child.guardianEmail) }));
    expect(await rowCounts(world.t)).toMatchObject({ accounts: 0, pending: 1 });
  });
});

describe('children: codes', () => {
  it('a brute-force loop: five wrong codes kill the code, and the right one then fails too', async () => {
    const child = await childSignsUp(world);
    const right = latestCode(world, child.guardianEmail);
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const refusal = await codeRefused(confirm(child.pending.pendingSignupId, { verificationId: child.pending.verificationId, code: wrong }));
      expect(refusal.details?.attemptsLeft).toBe(4 - i);
    }
    const spent = await codeRefused(confirm(child.pending.pendingSignupId, { verificationId: child.pending.verificationId, code: right }));
    expect(spent.message).toMatch(/too many wrong tries/);
    expect(await rowCounts(world.t)).toMatchObject({ accounts: 0, guardianships: 0 });
  });

  it("a code for one pending sign-up cannot confirm another, in either of its ids", async () => {
    const mine = await childSignsUp(world);
    const theirs = await childSignsUp(world);
    const code = latestCode(world, mine.guardianEmail);
    // My code and verification id, aimed at their sign-up.
    await codeRefused(confirm(theirs.pending.pendingSignupId, { verificationId: mine.pending.verificationId, code }));
    // Their verification id with my code: the hash is bound to its row.
    await codeRefused(confirm(theirs.pending.pendingSignupId, { verificationId: theirs.pending.verificationId, code }));
    expect(await rowCounts(world.t)).toMatchObject({ accounts: 0, pending: 2 });
  });

  it('replaying a used code fails, and the account exists once', async () => {
    const child = await childSignsUp(world);
    const proof = { verificationId: child.pending.verificationId, code: latestCode(world, child.guardianEmail) };
    expect((await confirm(child.pending.pendingSignupId, proof)).status).toBe(201);
    await codeRefused(confirm(child.pending.pendingSignupId, proof));
    expect(await rowCounts(world.t)).toMatchObject({ accounts: 1, pending: 0, guardianships: 1 });
  });

  it("a guardian-deletion code cannot confirm a sign-up, and a consent code cannot delete an account", async () => {
    const older = await childSignsUp(world);
    await confirm(older.pending.pendingSignupId, { verificationId: older.pending.verificationId, code: latestCode(world, older.guardianEmail) });
    const sent = await apiAt(world.t, freshAddress()).requestGuardianDeletion({ childEmail: older.email, guardian: { email: older.guardianEmail } });
    const mails = await waitForMail(world, older.guardianEmail, 3);
    const deletionCode = codeIn(mails[2]!.text);

    const child = await childSignsUp(world, { guardianEmail: older.guardianEmail });
    await codeRefused(confirm(child.pending.pendingSignupId, { verificationId: sent.verificationId, code: deletionCode }));
    const consentCode = latestCode(world, older.guardianEmail);
    await expectError(
      world.t.request('POST', '/v1/guardian/deletion/confirm', { body: { verificationId: child.pending.verificationId, code: consentCode } }),
      400,
      'verification_failed',
    );
  });

  it('resending is limited per sign-up, so it cannot flood the guardian', async () => {
    const child = await childSignsUp(world);
    const resend = () => world.t.request('POST', `/v1/accounts/pending/${child.pending.pendingSignupId}/resend`, { headers: { 'X-Forwarded-For': freshAddress() } });
    for (let i = 0; i < 4; i++) expect((await resend()).status).toBe(200);
    await expectError(resend(), 429, 'rate_limited');
    await waitForMail(world, child.guardianEmail, 5);
    expect(world.mailTo(child.guardianEmail)).toHaveLength(5);
  });

  it('many sign-ups naming one guardian send at most ten codes a day', async () => {
    const guardianEmail = uniqueEmail('parent');
    for (let i = 0; i < 10; i++) expect((await postSignup(await body({ guardian: { email: guardianEmail } }))).status).toBe(202);
    await expectError(postSignup(await body({ guardian: { email: guardianEmail } })), 429, 'rate_limited');
    // A sign-up whose code could not be sent keeps nothing.
    expect((await rowCounts(world.t)).pending).toBe(10);
  });
});

describe('children: what a stranger learns', () => {
  it('a second sign-up with an e-mail that is pending answers exactly as an e-mail an account has', async () => {
    const child = await childSignsUp(world);
    const member = await signUpAndLogIn(world.t);
    const taken = await expectError(postSignup(await body({ email: member.email })), 409, 'conflict');
    const pendingAsChild = await expectError(postSignup(await body({ email: child.email })), 409, 'conflict');
    const pendingAsAdult = await expectError(postSignup(await body({ email: child.email, birthYear: 1990, guardian: undefined })), 409, 'conflict');
    expect(pendingAsChild.message).toBe(taken.message);
    expect(pendingAsAdult.message).toBe(taken.message);
    // The guardian was not mailed again.
    expect(world.mailTo(child.guardianEmail)).toHaveLength(1);
  });

  it("a guardian-deletion request for a pair that does not match sends nothing and answers the same as one that does", async () => {
    const child = await childSignsUp(world);
    await confirm(child.pending.pendingSignupId, { verificationId: child.pending.verificationId, code: latestCode(world, child.guardianEmail) });
    const adult = await signUpAndLogIn(world.t);
    await waitForMail(world, child.guardianEmail, 2);
    const mailsBefore = world.smtp.received.length;

    const ask = async (childEmail: string, guardian: Record<string, string>) => {
      const res = await world.t.request('POST', '/v1/guardian/deletion', { body: { childEmail, guardian }, headers: { 'X-Forwarded-For': freshAddress() } });
      return { status: res.status, body: await json<Record<string, unknown>>(res) };
    };
    const shape = (answer: { status: number; body: Record<string, unknown> }) => ({
      status: answer.status,
      keys: Object.keys(answer.body).sort(),
      verificationId: String(answer.body.verificationId).length,
      expiresAt: answer.body.expiresAt,
    });
    const unmatched = [
      await ask(child.email, { email: uniqueEmail('stranger') }), // the child, another "guardian"
      await ask(child.email, { phoneNumber: '+447700900777' }), // the child, a number
      await ask(adult.email, { email: child.guardianEmail }), // an adult account, the real guardian
      await ask(uniqueEmail('nobody'), { email: child.guardianEmail }), // nobody at all
    ];
    expect(world.smtp.received.length).toBe(mailsBefore);
    const matched = await ask(child.email, { email: child.guardianEmail });
    await waitForMail(world, child.guardianEmail, 3);
    for (const answer of unmatched) expect(shape(answer)).toEqual(shape(matched));

    // Confirming a guess answers the same for a real code row and a made-up one.
    const guess = async (verificationId: unknown) =>
      (await expectError(world.t.request('POST', '/v1/guardian/deletion/confirm', { body: { verificationId, code: '000001' } }), 400, 'verification_failed')).message;
    expect(await guess(unmatched[0]!.body.verificationId)).toBe(await guess(matched.body.verificationId));
  });

  it('an adult sign-up stores no birth year anywhere, and no guardian', async () => {
    const YEAR = 1937;
    const api = apiAt(world.t, freshAddress());
    await signUp(api, { email: uniqueEmail(), password: 'pw', birthYear: YEAR, guardian: { email: uniqueEmail('parent') }, kdf: TEST_KDF });
    expect(await rowCounts(world.t)).toMatchObject({ accounts: 1, pending: 0, guardianships: 0, codes: 0 });
    expect(world.smtp.received).toHaveLength(0);
    const sqlite = (world.t.deps.db as unknown as { $client: { prepare(sql: string): { all(): Record<string, unknown>[] } } }).$client;
    const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => String(r.name));
    const hits = tables.flatMap((table) =>
      sqlite
        .prepare(`SELECT * FROM "${table}"`)
        .all()
        .flatMap((row) => Object.entries(row).filter(([, value]) => value === YEAR || value === String(YEAR)).map(([column]) => `${table}.${column}`)),
    );
    expect(hits).toEqual([]);
  });
});
