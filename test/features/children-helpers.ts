import { count, eq } from 'drizzle-orm';
import { createSmtpEmailSender } from '../../src/adapters/email-smtp.js';
import { signUp } from '../../src/client/account.js';
import type { PendingSignup } from '../../src/client/api.js';
import { accounts, guardianships, pendingSignups, verificationCodes } from '../../src/db/schema.js';
import { startSmtpServer } from '../adapters/smtp-server.js';
import { TEST_KDF, createTestApp, type TestApp, uniqueEmail } from '../harness.js';
import { apiAt, freshAddress } from '../security/helpers.js';

// The children flow against a real SMTP server: guardians' codes are read from the mail that
// arrived, never from the database.

/** A year the server must treat as "may be under 14" (the harness clock is in 2026). */
export const CHILD_YEAR = 2014;

export async function createChildWorld() {
  const smtp = await startSmtpServer();
  const email = createSmtpEmailSender({ url: smtp.url, from: 'homing@homing.test' });
  const t = createTestApp({}, { email });
  return {
    t,
    smtp,
    /** Every message the SMTP server received for this address. */
    mailTo: (address: string) => smtp.received.filter((mail) => mail.to.includes(address.toLowerCase())),
    async close() {
      t.close();
      email.close();
      await smtp.close();
    },
  };
}

export type ChildWorld = Awaited<ReturnType<typeof createChildWorld>>;

/** The 6-digit code a guardian's mail or SMS carries. */
export function codeIn(text: string) {
  const match = /code\D{0,40}?(\d{6})\b/i.exec(text);
  if (!match) throw new Error(`no code in: ${text}`);
  return match[1]!;
}

export interface ChildSignup {
  email: string;
  password: string;
  accountId: string;
  guardianEmail: string;
  pending: PendingSignup;
  address: string;
}

/** An under-14 sign-up through the SDK, naming a guardian by e-mail; waits for the guardian's mail. */
export async function childSignsUp(world: ChildWorld, opts: { guardianEmail?: string; address?: string } = {}): Promise<ChildSignup> {
  const email = uniqueEmail('child');
  const guardianEmail = opts.guardianEmail ?? uniqueEmail('parent');
  const password = `pw-${email}`;
  const address = opts.address ?? freshAddress();
  const before = world.mailTo(guardianEmail).length;
  const { accountId, pending } = await signUp(apiAt(world.t, address), {
    email,
    password,
    birthYear: CHILD_YEAR,
    guardian: { email: guardianEmail },
    kdf: TEST_KDF,
  });
  if (!pending) throw new Error('an under-14 sign-up was not kept pending');
  await waitForMail(world, guardianEmail, before + 1);
  return { email, password, accountId, guardianEmail, pending, address };
}

export async function waitForMail(world: ChildWorld, address: string, atLeast: number) {
  const deadline = Date.now() + 5_000;
  while (world.mailTo(address).length < atLeast) {
    if (Date.now() > deadline) throw new Error(`expected ${atLeast} mails to ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return world.mailTo(address);
}

/** The code in the newest mail to this address. */
export const latestCode = (world: ChildWorld, address: string) => codeIn(world.mailTo(address).at(-1)!.text);

export async function rowCounts(t: TestApp, subjectId?: string) {
  const [a] = await t.deps.db.select({ n: count() }).from(accounts);
  const [p] = await t.deps.db.select({ n: count() }).from(pendingSignups);
  const [g] = await t.deps.db.select({ n: count() }).from(guardianships);
  const [c] = subjectId
    ? await t.deps.db.select({ n: count() }).from(verificationCodes).where(eq(verificationCodes.subjectId, subjectId))
    : await t.deps.db.select({ n: count() }).from(verificationCodes);
  return { accounts: a!.n, pending: p!.n, guardianships: g!.n, codes: c!.n };
}
