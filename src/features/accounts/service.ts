import type { z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { AppError, notFound } from '../../http/app-error.js';
import * as repo from './repo.js';
import type { signupBody } from '../../protocol/api/accounts.js';

export type SignupInput = z.infer<typeof signupBody>;

const EMAIL = 'email';
const PHONE = 'phone';

export function normalizeEmail(email: string) {
  return email.normalize('NFKC').trim().toLowerCase();
}

export const emailIndexOf = (deps: Deps, email: string) => deps.secrets.blindIndex(EMAIL, normalizeEmail(email));

/**
 * Creates an account from keys the client made. The server checks shapes and its KDF floor
 * but never sees the password, the master key or any private key.
 */
export async function signUp(deps: Deps, input: SignupInput) {
  assertKdfFloor(deps, input.kdf);
  const email = normalizeEmail(input.email);
  const now = deps.clock.now();
  const inserted = await repo.insertAccount(deps.db, {
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
  if (!inserted) throw new AppError('conflict', 'an account with this email, phone number or id already exists');
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

export async function getAccount(deps: Deps, accountId: string) {
  const row = await repo.findAccountById(deps.db, accountId);
  if (!row) throw notFound('account');
  return {
    accountId: row.id,
    email: deps.secrets.openPersonal(EMAIL, row.emailCiphertext),
    phoneNumber: row.phoneCiphertext ? deps.secrets.openPersonal(PHONE, row.phoneCiphertext) : null,
    createdAt: row.createdAt,
  };
}

export async function getKeyBundle(deps: Deps, accountId: string) {
  const row = await repo.findAccountById(deps.db, accountId);
  if (!row) throw notFound('account');
  return keyBundleOf(row, 'password');
}

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
