import { fromBase64Url, toBase64Url } from '../../protocol/encoding.js';
import { loginChallengeMessage } from '../../protocol/login-challenge.js';
import { ed25519PublicKeyFromSeed, verifyDetached } from '../../protocol/signing.js';
import type { z } from '@hono/zod-openapi';
import { atomic, changedRows } from '../../db/client.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { challengeOrigin } from '../../http/own-origins.js';
import type { passwordChangeBody } from '../../protocol/api/accounts.js';
import { assertKdfFloor, emailIndexOf, findAccount, findAccountByEmailIndex, keyBundleOf, passwordKeysStatement } from '../accounts/service.js';
import { auditEntry, auditFailedLogin } from '../audit/service.js';
import { authenticateDevice } from '../devices/service.js';
import * as sessions from '../sessions/service.js';
import type { KdfDecoys } from '../accounts/kdf-decoy.js';
import type { Throttles } from '../throttles/service.js';
import { loginLimits } from './login-limits.js';
import * as repo from './repo.js';
import { issueTrustedClient, trustedClientId } from './trusted-client.js';

export type LoginMethod = 'password' | 'recovery';
type PasswordChangeInput = z.infer<typeof passwordChangeBody>;

// Verified against when a challenge belongs to no account, so both paths do the same work.
// A real curve point, so verification runs in full instead of failing early on decoding.
const DECOY_PUBLIC_KEY = ed25519PublicKeyFromSeed(new Uint8Array(32).fill(0x5a));

const badProof = () => new AppError('invalid_credentials', 'the email, password or recovery key is wrong');

interface Context {
  clientAddress: string;
  /** The trusted-client token the client sent (body field or cookie), if any. */
  trustedClient?: string;
}

/**
 * Issues a single-use challenge bound to the account, this server's origin and a short expiry.
 * The origin is PUBLIC_URL's, or the loopback spelling of it the request came from
 * (http/own-origins.ts): the signature must be over exactly that origin, and proof checking uses
 * the one stored here, so a challenge is only ever good for an origin of this server.
 * An unknown email gets the same answer: a challenge row (that can never verify) and decoy
 * parameters (kdf-decoy.ts), stable across requests. Known and unknown emails cost one lookup,
 * one decoy and one insert each.
 */
export async function createChallenge(
  deps: Deps,
  throttles: Throttles,
  decoys: KdfDecoys,
  input: { email: string; method: LoginMethod },
  ctx: Context & { requestOrigin?: string },
) {
  const emailIndex = emailIndexOf(deps, input.email);
  const trustedId = trustedClientId(deps, emailIndex, ctx.trustedClient);
  await loginLimits(throttles, { emailIndex, clientAddress: ctx.clientAddress, trustedClientId: trustedId }).beforeChallenge();

  const account = await findAccountByEmailIndex(deps, emailIndex);
  const now = deps.clock.now();
  const challenge = {
    id: deps.random.id(),
    accountId: account?.id ?? null,
    emailIndex,
    method: input.method,
    nonce: toBase64Url(deps.random.bytes(32)),
    origin: challengeOrigin(deps.config.publicOrigin, ctx.requestOrigin),
    expiresAt: now + deps.config.challengeTtlMs,
    createdAt: now,
  };
  await repo.insertChallenge(deps.db, challenge);

  const decoy = await decoys.forEmail(emailIndex);
  const kdf = account ? { salt: account.kdfSalt, opsLimit: account.kdfOpsLimit, memLimit: account.kdfMemLimit } : decoy;
  return {
    challengeId: challenge.id,
    challenge: challenge.nonce,
    origin: challenge.origin,
    expiresAt: challenge.expiresAt,
    // A recovery key is high-entropy and needs no Argon2 parameters.
    ...(input.method === 'password' ? { kdf } : {}),
  };
}

/**
 * Checks a signed challenge and returns the account it proves. Unknown account and wrong
 * signature fail identically (same code, same work); an expired, used or unknown challenge fails
 * as challenge_invalid, which says nothing about the account either, since decoys are stored too.
 * Failures count towards the backoffs of login-limits.ts. A logged-in session re-proving its own
 * account's password is a trusted client, keyed by the session.
 */
export async function verifyProof(
  deps: Deps,
  throttles: Throttles,
  proof: { challengeId: string; signature: string },
  ctx: Context & { session?: { sessionId: string; accountId: string } },
) {
  const challenge = await repo.consumeChallenge(deps.db, proof.challengeId, deps.clock.now());
  if (!challenge) throw new AppError('challenge_invalid', 'the challenge is unknown, used or expired; ask for a new one');

  const account = challenge.accountId ? await findAccount(deps, challenge.accountId) : undefined;
  const ownSession = ctx.session?.accountId === challenge.accountId ? ctx.session : undefined;
  const limits = loginLimits(throttles, {
    emailIndex: challenge.emailIndex,
    clientAddress: ctx.clientAddress,
    trustedClientId: ownSession ? `session:${ownSession.sessionId}` : trustedClientId(deps, challenge.emailIndex, ctx.trustedClient),
  });
  await limits.beforeProof();

  const publicKey = account
    ? fromBase64Url(challenge.method === 'password' ? account.loginPublicKey : account.recoveryLoginPublicKey)
    : DECOY_PUBLIC_KEY;
  const message = loginChallengeMessage({
    origin: challenge.origin,
    challengeId: challenge.id,
    challenge: fromBase64Url(challenge.nonce),
  });
  const valid = verifyDetached(publicKey, message, fromBase64Url(proof.signature));
  const forThisAccount = ctx.session === undefined || ownSession !== undefined;

  if (!account || !valid || !forThisAccount) {
    await limits.recordFailure();
    await auditFailedLogin(deps, account?.id ?? null, {
      sessionId: ownSession?.sessionId,
      detail: ctx.session ? `${challenge.method} (re-authentication)` : challenge.method,
    });
    deps.log.info('login proof refused', { method: challenge.method });
    throw badProof();
  }
  await limits.recordSuccess();
  return { account, method: challenge.method as LoginMethod, emailIndex: challenge.emailIndex };
}

export async function login(
  deps: Deps,
  throttles: Throttles,
  input: { challengeId: string; signature: string; sessionKind: sessions.SessionKind; label?: string; deviceToken?: string },
  ctx: Context,
) {
  const { account, method, emailIndex } = await verifyProof(deps, throttles, input, ctx);
  const deviceId = input.deviceToken ? await phoneOf(deps, account.id, input.deviceToken) : undefined;
  const { statement, session } = sessions.prepareSession(deps, account.id, input.sessionKind, input.label, deviceId);
  await atomic(deps.db, [statement, auditEntry(deps, account.id, 'login.succeeded', { sessionId: session.id, deviceId, detail: method })]);
  deps.log.info('logged in', { accountId: account.id, sessionId: session.id, method, deviceId });
  return {
    accountId: account.id,
    method,
    session,
    keys: keyBundleOf(account, method),
    trustedClient: issueTrustedClient(deps, emailIndex),
  };
}

/** The phone a login happens on, proven by its device token, which must be this account's. */
async function phoneOf(deps: Deps, accountId: string, deviceToken: string) {
  const device = await authenticateDevice(deps, deviceToken).catch(() => undefined);
  if (!device || device.accountId !== accountId) {
    throw new AppError('unauthorized', 'body.deviceToken: unknown, removed, or another account\'s device; log in without it or register again');
  }
  return device.deviceId;
}

/** A fresh signed challenge from a logged-in session, recorded so dangerous actions can ask for it. */
export async function reauthenticate(
  deps: Deps,
  throttles: Throttles,
  session: { sessionId: string; accountId: string },
  proof: { challengeId: string; signature: string },
  ctx: Context,
) {
  await verifyProof(deps, throttles, proof, { ...ctx, session });
  return { reauthenticatedAt: await sessions.markReauthenticated(deps, session.sessionId) };
}

/**
 * Replaces the password-derived login key and wrapped master key. A session alone is not enough:
 * a fresh proof of the current password or the recovery key is required, so a stolen session
 * cannot lock the owner out. The key change and the sign-out of every other session commit together.
 */
export async function changePassword(
  deps: Deps,
  throttles: Throttles,
  session: { sessionId: string; accountId: string },
  input: PasswordChangeInput,
  ctx: Context,
) {
  assertKdfFloor(deps, input.kdf);
  await verifyProof(deps, throttles, input.proof, { ...ctx, session });
  const others = await sessions.countOtherSessions(deps, session.accountId, session.sessionId);
  await atomic(deps.db, [
    passwordKeysStatement(deps, session.accountId, {
      kdfSalt: input.kdf.salt,
      kdfOpsLimit: input.kdf.opsLimit,
      kdfMemLimit: input.kdf.memLimit,
      loginPublicKey: input.loginPublicKey,
      wrappedMasterKey: input.wrappedMasterKey,
    }),
    sessions.revokeOtherSessionsStatement(deps, session.accountId, session.sessionId),
    auditEntry(deps, session.accountId, 'password.changed', { sessionId: session.sessionId, detail: `${others} other sessions signed out` }),
  ]);
  deps.log.info('password changed', { accountId: session.accountId, revokedSessions: others });
  return { revokedSessions: others };
}

export async function purgeExpiredChallenges(deps: Deps) {
  return { challenges: changedRows(await repo.deleteExpiredChallenges(deps.db, deps.clock.now())) };
}

/** Account deletion: the account's outstanding login challenges (no cascade reaches them). */
export const forgetChallengesStatement = (deps: Deps, accountId: string) => repo.deleteChallengesOf(deps.db, accountId);
