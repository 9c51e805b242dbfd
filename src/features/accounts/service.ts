import { toBase64Url } from '../../protocol/encoding.js';
import { ed25519PublicKeyFromSeed } from '../../protocol/signing.js';
import type { z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { atomic, isUniqueViolation, type Statement } from '../../db/client.js';
import { AppError, notFound } from '../../http/app-error.js';
import * as repo from './repo.js';
import { signupAcceptanceStatements } from '../policy/service.js';
import type { signupBody } from '../../protocol/api/accounts.js';
import { mayBeUnder14 } from '../../protocol/age.js';

export type SignupInput = z.infer<typeof signupBody>;

const EMAIL = 'email';
const PHONE = 'phone';

export function normalizeEmail(email: string) {
  return email.normalize('NFKC').trim().toLowerCase();
}

export const emailIndexOf = (deps: Deps, email: string) => deps.secrets.blindIndex(EMAIL, normalizeEmail(email));

// Sign-up refuses an id, e-mail or phone number that is taken, with one answer whatever took it
// (an account, or an under-14 sign-up waiting for its guardian), so a pending sign-up tells a
// stranger nothing a normal sign-up does not already (see TAKEN in test/security/matrix-operations.ts).
export const signupTaken = () => new AppError('conflict', 'an account with this email, phone number or id already exists');

/**
 * The children feature's part in sign-up. It builds on this feature (a confirmed child becomes
 * an account through signUp), so app.ts hands it in rather than this feature importing it.
 */
export interface GuardianConsent {
  /** Keeps the sign-up as a pending record only, and sends the guardian a code. */
  startPendingSignup(input: SignupInput): Promise<PendingSignup>;
  /** Whether an under-14 sign-up waiting for its guardian holds this e-mail. */
  isEmailPending(email: string): Promise<boolean>;
}

export interface PendingSignup {
  pendingSignupId: string;
  verificationId: string;
  expiresAt: number;
  codeExpiresAt: number;
  guardian: string;
}

/**
 * POST /v1/accounts: an adult's account is created now (201); anyone who may be under 14 gets
 * only a pending record until a guardian consents (202).
 */
export async function signUpOrAskGuardian(
  deps: Deps,
  guardians: GuardianConsent,
  input: SignupInput,
): Promise<{ status: 201; body: { accountId: string } } | { status: 202; body: PendingSignup }> {
  assertKdfFloor(deps, input.kdf);
  if (input.birthYear > new Date(deps.clock.now()).getUTCFullYear()) {
    throw new AppError('validation_failed', 'body.birthYear: must not be in the future');
  }
  if (mayBeUnder14(input.birthYear, deps.clock.now())) {
    if (!input.guardian) {
      throw new AppError(
        'validation_failed',
        'body.guardian: a user who may be under 14 needs the consent of a parent or guardian; give their email or phoneNumber, and they get a code',
      );
    }
    return { status: 202, body: await guardians.startPendingSignup(input) };
  }
  if (await guardians.isEmailPending(input.email)) throw signupTaken();
  return { status: 201, body: await signUp(deps, input) };
}

/** Refuses, as sign-up would, an id, e-mail or phone number some account already has. */
export async function assertSignupFree(deps: Deps, input: Pick<SignupInput, 'accountId' | 'email' | 'phoneNumber'>) {
  const taken = await repo.isAnyTaken(deps.db, {
    id: input.accountId,
    emailIndex: emailIndexOf(deps, input.email),
    phoneIndex: input.phoneNumber ? deps.secrets.blindIndex(PHONE, input.phoneNumber) : null,
  });
  if (taken) throw signupTaken();
}

/**
 * Creates an account from keys the client made. The server checks shapes and its KDF floor
 * but never sees the password, the master key or any private key. `alongside` commits with the
 * account row, all or nothing (a child's guardianship, the pending sign-up's removal).
 *
 * The birth year is not stored: it only decides whether a guardian must consent (data
 * minimisation). A child's is kept with the guardianship, by the children feature.
 */
export async function signUp(deps: Deps, input: SignupInput, alongside: Statement[] = []) {
  assertKdfFloor(deps, input.kdf);
  const email = normalizeEmail(input.email);
  const now = deps.clock.now();
  const account = repo.insertAccount(deps.db, {
    id: input.accountId,
    emailCiphertext: deps.secrets.sealPersonal(EMAIL, email),
    emailIndex: deps.secrets.blindIndex(EMAIL, email),
    phoneCiphertext: input.phoneNumber ? deps.secrets.sealPersonal(PHONE, input.phoneNumber) : null,
    phoneIndex: input.phoneNumber ? deps.secrets.blindIndex(PHONE, input.phoneNumber) : null,
    kdfSalt: input.kdf.salt,
    kdfOpsLimit: input.kdf.opsLimit,
    kdfMemLimit: input.kdf.memLimit,
    loginPublicKey: input.loginPublicKey,
    wrappedMasterKey: input.wrappedMasterKey,
    recoveryLoginPublicKey: input.recoveryLoginPublicKey,
    recoveryWrappedMasterKey: input.recoveryWrappedMasterKey,
    x25519PublicKey: input.x25519PublicKey,
    wrappedX25519SecretKey: input.wrappedX25519SecretKey,
    ed25519PublicKey: input.ed25519PublicKey,
    wrappedEd25519SecretKey: input.wrappedEd25519SecretKey,
    createdAt: now,
    updatedAt: now,
  });
  try {
    await atomic(deps.db, [account, ...(await signupAcceptanceStatements(deps, input.accountId)), ...alongside]);
  } catch (err) {
    if (isUniqueViolation(err)) throw signupTaken();
    throw err;
  }
  deps.log.info('account created', { accountId: input.accountId });
  return { accountId: input.accountId };
}

/** Refuses Argon2id parameters weaker than the operator's floor. */
export function assertKdfFloor(deps: Deps, kdf: { opsLimit: number; memLimit: number }) {
  const { opsLimit, memLimit } = deps.config.kdfMinimum;
  if (kdf.opsLimit < opsLimit || kdf.memLimit < memLimit) {
    throw new AppError(
      'validation_failed',
      `body.kdf: Argon2id parameters below this server's minimum (opsLimit ${opsLimit}, memLimit ${memLimit})`,
    );
  }
}

async function accountRow(deps: Deps, accountId: string) {
  const row = await repo.findAccountById(deps.db, accountId);
  if (!row) throw notFound('account');
  return row;
}

/** The account as its owner sees it, with the e-mail and phone number opened. */
const accountView = (deps: Deps, row: repo.AccountRow) => ({
  accountId: row.id,
  email: deps.secrets.openPersonal(EMAIL, row.emailCiphertext),
  phoneNumber: row.phoneCiphertext ? deps.secrets.openPersonal(PHONE, row.phoneCiphertext) : null,
  createdAt: row.createdAt,
});

export const getAccount = async (deps: Deps, accountId: string) => accountView(deps, await accountRow(deps, accountId));

export const getKeyBundle = async (deps: Deps, accountId: string) => keyBundleOf(await accountRow(deps, accountId), 'password');

/** The wrapped keys a client needs after login; which master-key wrapping depends on the method. */
export function keyBundleOf(row: repo.AccountRow, method: 'password' | 'recovery') {
  return {
    kdf: { salt: row.kdfSalt, opsLimit: row.kdfOpsLimit, memLimit: row.kdfMemLimit },
    ...(method === 'password'
      ? { wrappedMasterKey: row.wrappedMasterKey }
      : { recoveryWrappedMasterKey: row.recoveryWrappedMasterKey }),
    x25519PublicKey: row.x25519PublicKey,
    wrappedX25519SecretKey: row.wrappedX25519SecretKey,
    ed25519PublicKey: row.ed25519PublicKey,
    wrappedEd25519SecretKey: row.wrappedEd25519SecretKey,
  };
}

export type AccountRow = repo.AccountRow;

export const findAccount = (deps: Deps, accountId: string) => repo.findAccountById(deps.db, accountId);

export const findAccountByEmailIndex = (deps: Deps, emailIndex: string) => repo.findAccountByEmailIndex(deps.db, emailIndex);

/** The statement that replaces the password-derived keys; the caller commits it with what must change with it. */
export const passwordKeysStatement = (
  deps: Deps,
  accountId: string,
  keys: Parameters<typeof repo.updatePasswordKeys>[2],
) => repo.updatePasswordKeys(deps.db, accountId, keys, deps.clock.now());

/** The whole account record for its owner's export, with the e-mail and phone number opened. */
export async function exportAccountRecord(deps: Deps, accountId: string) {
  const row = await accountRow(deps, accountId);
  return {
    ...accountView(deps, row),
    updatedAt: row.updatedAt,
    kdf: { salt: row.kdfSalt, opsLimit: row.kdfOpsLimit, memLimit: row.kdfMemLimit },
    loginPublicKey: row.loginPublicKey,
    wrappedMasterKey: row.wrappedMasterKey,
    recoveryLoginPublicKey: row.recoveryLoginPublicKey,
    recoveryWrappedMasterKey: row.recoveryWrappedMasterKey,
    x25519PublicKey: row.x25519PublicKey,
    wrappedX25519SecretKey: row.wrappedX25519SecretKey,
    ed25519PublicKey: row.ed25519PublicKey,
    wrappedEd25519SecretKey: row.wrappedEd25519SecretKey,
  };
}

/** A page of accounts in id order with their e-mail opened, for notices every account must get (a policy change). */
export async function accountsToNotify(deps: Deps, afterId: string, limit: number) {
  return (await repo.accountsAfter(deps.db, afterId, limit)).map((row) => ({
    accountId: row.id,
    email: deps.secrets.openPersonal(EMAIL, row.emailCiphertext),
  }));
}

// ---- account deletion (src/features/deletion) ----

/**
 * Once an account's purge has begun, no login (password or recovery key) can succeed: both login
 * keys become the public key of a random seed that is thrown away at once.
 */
export const lockOutStatement = (deps: Deps, accountId: string) =>
  repo.lockOut(deps.db, accountId, toBase64Url(ed25519PublicKeyFromSeed(deps.random.bytes(32))), deps.clock.now());

/** Deletes the account row; the tables that reference it with a cascade go with it. */
export const deleteAccountStatement = (deps: Deps, accountId: string) => repo.deleteAccount(deps.db, accountId);

// ---- Personal data (src/features/personal-data): the sealed values and blind indexes change together.

export const phoneIndexOf = (deps: Deps, phoneNumber: string) => deps.secrets.blindIndex(PHONE, phoneNumber);

export const findAccountByPhoneIndex = (deps: Deps, phoneIndex: string) => repo.findAccountByPhoneIndex(deps.db, phoneIndex);

/** The statement that sets the account's e-mail (normalized, sealed and indexed); the caller commits it. */
export function emailChangeStatement(deps: Deps, accountId: string, email: string) {
  const normalized = normalizeEmail(email);
  return repo.updateEmail(
    deps.db,
    accountId,
    { emailCiphertext: deps.secrets.sealPersonal(EMAIL, normalized), emailIndex: deps.secrets.blindIndex(EMAIL, normalized) },
    deps.clock.now(),
  );
}

/** The statement that sets (or, with null, removes) the account's phone number; the caller commits it. */
export function phoneChangeStatement(deps: Deps, accountId: string, phoneNumber: string | null) {
  return repo.updatePhone(
    deps.db,
    accountId,
    phoneNumber
      ? { phoneCiphertext: deps.secrets.sealPersonal(PHONE, phoneNumber), phoneIndex: deps.secrets.blindIndex(PHONE, phoneNumber) }
      : { phoneCiphertext: null, phoneIndex: null },
    deps.clock.now(),
  );
}
