import type { ApiClient, Challenge, KeyBundle, LoginResponse, PendingSignup, Proof, SignupRequest } from './api.js';
import {
  createAccountKeys,
  derivePasswordSecrets,
  deriveRecoverySecrets,
  type KdfCost,
  parseRecoveryKey,
  rewrapForPassword,
  unlockWithPassword,
  unlockWithRecovery,
  type UnlockedKeys,
} from './crypto/account-keys.js';
import type { Argon2id } from './crypto/argon2id.js';
import { fromBase64Url, randomBytes, toBase64Url } from '../protocol/encoding.js';
import { loginChallengeMessage } from '../protocol/login-challenge.js';
import { signDetached } from '../protocol/signing.js';

type GuardianContact = NonNullable<SignupRequest['guardian']>;

/** The shortest password a client accepts when one is chosen (sign-up, password change), as the device CLI asks. */
export const MIN_PASSWORD_LENGTH = 8;

// The account flows a phone or the web page runs. Keys are made and opened here, on the
// client; the server only ever sees public keys, wrapped secrets and signatures. Each flow that
// derives from a password takes an optional `argon2id` engine (crypto/argon2id.ts): the page
// passes its Web Worker's, and noble's runs when it is left out.

/**
 * Makes the account's keys and signs up. Someone who may be under 14 (by birth year) must name a
 * guardian; the answer then carries `pending`, and the account exists only once the code sent to
 * the guardian is confirmed (confirmSignup). The recovery key is the same either way.
 */
export async function signUp(
  api: ApiClient,
  input: { email: string; password: string; phoneNumber?: string; birthYear: number; guardian?: GuardianContact; kdf?: KdfCost; argon2id?: Argon2id },
): Promise<{ accountId: string; recoveryKey: string; pending?: PendingSignup }> {
  const accountId = toBase64Url(randomBytes(16));
  const { bundle, recoveryKey, masterKey, loginSeed } = await createAccountKeys({ accountId, password: input.password, kdf: input.kdf, argon2id: input.argon2id });
  // Only the wrapped forms are needed from here on; the page and the CLI log in afresh.
  masterKey.fill(0);
  loginSeed.fill(0);
  const answer = await api.signUp({
    accountId,
    email: input.email,
    phoneNumber: input.phoneNumber,
    birthYear: input.birthYear,
    guardian: input.guardian,
    ...bundle,
  });
  return 'pendingSignupId' in answer ? { accountId, recoveryKey, pending: answer } : { accountId, recoveryKey };
}

/** Confirms a pending sign-up with the code the guardian received; the account exists after this. */
export const confirmSignup = (api: ApiClient, pending: Pick<PendingSignup, 'pendingSignupId' | 'verificationId'>, code: string) =>
  api.confirmPendingSignup(pending.pendingSignupId, { verificationId: pending.verificationId, code });

/**
 * Refuses a challenge issued for another origin than the one this client dialled: a proxy or a
 * hostile server relaying another server's challenge, or a server whose PUBLIC_URL is not where it
 * is reached. Checked as soon as the challenge arrives, before any key is derived or anything signed.
 */
function assertChallengeOrigin(api: ApiClient, challenge: Challenge) {
  if (challenge.origin !== api.origin) {
    throw new Error(`the server asked for a signature for ${challenge.origin}, but this client talks to ${api.origin}`);
  }
}

async function challengeFor(api: ApiClient, email: string, method: 'password' | 'recovery', trustedClient?: string) {
  const challenge = await api.challenge(email, method, trustedClient);
  assertChallengeOrigin(api, challenge);
  return challenge;
}

/**
 * Signs a challenge with a login key. The origin signed is the one this client talks to, never
 * the one the server names, so a signature made for one server cannot be replayed to another.
 * Exported, so it checks the challenge's origin itself too: a caller may hand it any challenge.
 */
export function signChallenge(api: ApiClient, challenge: Challenge, loginSeed: Uint8Array): Proof {
  assertChallengeOrigin(api, challenge);
  const message = loginChallengeMessage({
    origin: api.origin,
    challengeId: challenge.challengeId,
    challenge: fromBase64Url(challenge.challenge),
  });
  return { challengeId: challenge.challengeId, signature: toBase64Url(signDetached(loginSeed, message)) };
}

async function passwordProof(api: ApiClient, email: string, password: string, trustedClient?: string, argon2id?: Argon2id) {
  const challenge = await challengeFor(api, email, 'password', trustedClient);
  if (!challenge.kdf) throw new Error('the server sent no key-derivation parameters');
  const secrets = await derivePasswordSecrets(password, { ...challenge.kdf, salt: fromBase64Url(challenge.kdf.salt) }, argon2id);
  return { proof: signChallenge(api, challenge, secrets.loginSeed), kek: secrets.kek };
}

async function recoveryProof(api: ApiClient, email: string, recoveryKey: string, trustedClient?: string) {
  const secrets = deriveRecoverySecrets(parseRecoveryKey(recoveryKey));
  const challenge = await challengeFor(api, email, 'recovery', trustedClient);
  return { proof: signChallenge(api, challenge, secrets.loginSeed), kek: secrets.kek };
}

export interface LoggedIn {
  response: LoginResponse;
  keys: UnlockedKeys;
}

export async function logIn(
  api: ApiClient,
  input: {
    email: string;
    password: string;
    label?: string;
    session?: 'bearer' | 'cookie';
    deviceToken?: string;
    /** The `trustedClient` of an earlier login to this account: keeps login open while strangers flood it. */
    trustedClient?: string;
    argon2id?: Argon2id;
  },
): Promise<LoggedIn> {
  const { trustedClient } = input;
  const { proof, kek } = await passwordProof(api, input.email, input.password, trustedClient, input.argon2id);
  const response = await api.login({ ...proof, label: input.label, session: input.session, deviceToken: input.deviceToken, trustedClient });
  if (response.session.token) api.setSessionToken(response.session.token);
  const keys = unlockWithPassword({ accountId: response.accountId, ...response.keys }, kek);
  return { response, keys };
}

/** Logs in with the recovery key; follow with setNewPassword, as the old password is lost. */
export async function logInWithRecoveryKey(
  api: ApiClient,
  input: { email: string; recoveryKey: string; label?: string; session?: 'bearer' | 'cookie'; trustedClient?: string },
): Promise<LoggedIn> {
  const { trustedClient } = input;
  const { proof, kek } = await recoveryProof(api, input.email, input.recoveryKey, trustedClient);
  const response = await api.login({ ...proof, label: input.label, session: input.session, trustedClient });
  if (response.session.token) api.setSessionToken(response.session.token);
  const keys = unlockWithRecovery({ accountId: response.accountId, ...response.keys }, kek);
  return { response, keys };
}

/**
 * Opens the keys of a session that is already logged in (a reloaded web page) from the account's
 * key bundle (GET /v1/account/keys) and the password, without opening another session. Everything
 * happens here: a wrong password fails with DecryptionError before anything is sent.
 */
export async function unlockKeyBundle(input: { accountId: string; bundle: KeyBundle; password: string; argon2id?: Argon2id }): Promise<UnlockedKeys> {
  const { kdf } = input.bundle;
  const secrets = await derivePasswordSecrets(input.password, { ...kdf, salt: fromBase64Url(kdf.salt) }, input.argon2id);
  try {
    return unlockWithPassword({ accountId: input.accountId, ...input.bundle }, secrets.kek);
  } finally {
    secrets.kek.fill(0);
    secrets.loginSeed.fill(0);
  }
}

/** A fresh proof for a logged-in session (password change, wipe). */
export async function proveIdentity(
  api: ApiClient,
  input: { email: string; argon2id?: Argon2id } & ({ password: string } | { recoveryKey: string }),
) {
  const { proof } =
    'password' in input
      ? await passwordProof(api, input.email, input.password, undefined, input.argon2id)
      : await recoveryProof(api, input.email, input.recoveryKey);
  return proof;
}

/**
 * Re-wraps the master key under a new password. The current password or the recovery key proves
 * it is the owner; the server then signs out every other session.
 */
export async function changePassword(
  api: ApiClient,
  input: {
    accountId: string;
    email: string;
    masterKey: Uint8Array;
    newPassword: string;
    kdf?: KdfCost;
    argon2id?: Argon2id;
  } & ({ currentPassword: string } | { recoveryKey: string }),
) {
  const { argon2id } = input;
  const proof = await proveIdentity(
    api,
    'currentPassword' in input
      ? { email: input.email, password: input.currentPassword, argon2id }
      : { email: input.email, recoveryKey: input.recoveryKey },
  );
  const rewrapped = await rewrapForPassword({
    accountId: input.accountId,
    masterKey: input.masterKey,
    password: input.newPassword,
    kdf: input.kdf,
    argon2id,
  });
  return api.changePassword({
    proof,
    kdf: rewrapped.kdf,
    loginPublicKey: rewrapped.loginPublicKey,
    wrappedMasterKey: rewrapped.wrappedMasterKey,
  });
}

/** The current password or the recovery key: what proves the owner before a change of personal data. */
export type IdentitySecret = ({ password: string } | { recoveryKey: string }) & { argon2id?: Argon2id };

/**
 * Starts moving the account to a new e-mail address: signs a fresh challenge (for the current
 * address) with the password or recovery key, and the server sends a code to the new address.
 * Follow with api.confirmEmailChange(verificationId, code).
 */
export async function startEmailChange(api: ApiClient, input: { currentEmail: string; newEmail: string } & IdentitySecret) {
  const proof = await proveIdentity(api, { email: input.currentEmail, ...secretOf(input) });
  return api.startEmailChange(proof, input.newEmail);
}

/** Starts changing the phone number; a code is texted to it. Follow with api.confirmPhoneChange. */
export async function startPhoneChange(api: ApiClient, input: { email: string; phoneNumber: string } & IdentitySecret) {
  const proof = await proveIdentity(api, { email: input.email, ...secretOf(input) });
  return api.startPhoneChange(proof, input.phoneNumber);
}

/** Removes the phone number from the account. */
export async function removePhone(api: ApiClient, input: { email: string } & IdentitySecret) {
  const proof = await proveIdentity(api, { email: input.email, ...secretOf(input) });
  await api.removePhone(proof);
}

const secretOf = (input: IdentitySecret) =>
  'password' in input ? { password: input.password, argon2id: input.argon2id } : { recoveryKey: input.recoveryKey };
