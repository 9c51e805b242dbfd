import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { type KeyPurpose, keyWrapAd, openWithKey, sealWithKey } from './aead.js';
import type { Argon2id } from './argon2id.js';
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url } from '../../protocol/encoding.js';
import {
  INTERACTIVE_KDF,
  KDF_CONTEXT,
  KDF_SALT_BYTES,
  type KdfParams,
  SUBKEY,
  deriveRootKey,
  deriveSubkey,
} from './kdf.js';
import { ed25519PublicKeyFromSeed } from '../../protocol/signing.js';

export interface LoginSecrets {
  loginSeed: Uint8Array;
  loginPublicKey: Uint8Array;
  kek: Uint8Array;
}

export interface KdfCost {
  opsLimit: number;
  memLimit: number;
}

export interface SignupKeyBundle {
  kdf: { salt: string; opsLimit: number; memLimit: number };
  loginPublicKey: string;
  wrappedMasterKey: string;
  recoveryLoginPublicKey: string;
  recoveryWrappedMasterKey: string;
  x25519PublicKey: string;
  wrappedX25519SecretKey: string;
  ed25519PublicKey: string;
  /** Wraps the 32-byte Ed25519 seed; libsodium users expand it with crypto_sign_seed_keypair. */
  wrappedEd25519SecretKey: string;
}

export interface AccountKeyMaterial {
  accountId: string;
  wrappedMasterKey?: string;
  recoveryWrappedMasterKey?: string;
  x25519PublicKey: string;
  wrappedX25519SecretKey: string;
  ed25519PublicKey: string;
  wrappedEd25519SecretKey: string;
}

export interface UnlockedKeys {
  masterKey: Uint8Array;
  x25519SecretKey: Uint8Array;
  x25519PublicKey: Uint8Array;
  ed25519Seed: Uint8Array;
  ed25519PublicKey: Uint8Array;
}

function loginSecretsFrom(rootKey: Uint8Array): LoginSecrets {
  const loginSeed = deriveSubkey(rootKey, SUBKEY.login, KDF_CONTEXT);
  const kek = deriveSubkey(rootKey, SUBKEY.kek, KDF_CONTEXT);
  return { loginSeed, loginPublicKey: ed25519PublicKeyFromSeed(loginSeed), kek };
}

/** `argon2id` is the engine deriveRootKey runs (kdf.ts); noble's when left out. */
export async function derivePasswordSecrets(password: string, params: KdfParams, argon2id?: Argon2id): Promise<LoginSecrets> {
  const rootKey = await deriveRootKey(password, params, argon2id);
  const secrets = loginSecretsFrom(rootKey);
  rootKey.fill(0);
  return secrets;
}

/** The recovery key is already 32 uniformly random bytes, so it needs no password hashing. */
export function deriveRecoverySecrets(recoveryKey: Uint8Array): LoginSecrets {
  if (recoveryKey.length !== 32) throw new Error('recovery key must be 32 bytes');
  return loginSecretsFrom(recoveryKey);
}

export function formatRecoveryKey(bytes: Uint8Array): string {
  if (bytes.length !== 32) throw new Error('recovery key must be 32 bytes');
  return bytesToHex(bytes).match(/.{8}/g)!.join('-');
}

export function parseRecoveryKey(text: string): Uint8Array {
  const hex = text.replace(/[\s-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new Error('recovery key must be 64 hexadecimal digits (spaces and dashes are ignored)');
  }
  return hexToBytes(hex);
}

function freshKdfParams(cost: KdfCost = INTERACTIVE_KDF): KdfParams {
  return { salt: randomBytes(KDF_SALT_BYTES), opsLimit: cost.opsLimit, memLimit: cost.memLimit };
}

function wrap(key: Uint8Array, secret: Uint8Array, purpose: KeyPurpose, accountId: string): string {
  return toBase64Url(sealWithKey(key, secret, keyWrapAd(purpose, accountId)));
}

function unwrap(key: Uint8Array, wrapped: string, purpose: KeyPurpose, accountId: string): Uint8Array {
  return openWithKey(key, fromBase64Url(wrapped), keyWrapAd(purpose, accountId));
}

export async function createAccountKeys(input: {
  accountId: string;
  password: string;
  kdf?: KdfCost;
  argon2id?: Argon2id;
}): Promise<{ bundle: SignupKeyBundle; masterKey: Uint8Array; recoveryKey: string; loginSeed: Uint8Array }> {
  const { accountId } = input;
  const kdf = freshKdfParams(input.kdf);
  const password = await derivePasswordSecrets(input.password, kdf, input.argon2id);
  const recoveryKey = randomBytes(32);
  const recovery = deriveRecoverySecrets(recoveryKey);

  const masterKey = randomBytes(32);
  const x25519SecretKey = randomBytes(32);
  const ed25519Seed = randomBytes(32);

  const bundle: SignupKeyBundle = {
    kdf: { salt: toBase64Url(kdf.salt), opsLimit: kdf.opsLimit, memLimit: kdf.memLimit },
    loginPublicKey: toBase64Url(password.loginPublicKey),
    wrappedMasterKey: wrap(password.kek, masterKey, 'master-key/password', accountId),
    recoveryLoginPublicKey: toBase64Url(recovery.loginPublicKey),
    recoveryWrappedMasterKey: wrap(recovery.kek, masterKey, 'master-key/recovery', accountId),
    x25519PublicKey: toBase64Url(x25519.getPublicKey(x25519SecretKey)),
    wrappedX25519SecretKey: wrap(masterKey, x25519SecretKey, 'x25519-secret', accountId),
    ed25519PublicKey: toBase64Url(ed25519PublicKeyFromSeed(ed25519Seed)),
    wrappedEd25519SecretKey: wrap(masterKey, ed25519Seed, 'ed25519-secret', accountId),
  };
  return { bundle, masterKey, recoveryKey: formatRecoveryKey(recoveryKey), loginSeed: password.loginSeed };
}

export function unlockWithPassword(material: AccountKeyMaterial, kek: Uint8Array): UnlockedKeys {
  if (material.wrappedMasterKey === undefined) throw new Error('key material has no wrappedMasterKey');
  const masterKey = unwrap(kek, material.wrappedMasterKey, 'master-key/password', material.accountId);
  return unlockAccountSecrets(material, masterKey);
}

export function unlockWithRecovery(material: AccountKeyMaterial, recoveryKek: Uint8Array): UnlockedKeys {
  if (material.recoveryWrappedMasterKey === undefined) {
    throw new Error('key material has no recoveryWrappedMasterKey');
  }
  const masterKey = unwrap(recoveryKek, material.recoveryWrappedMasterKey, 'master-key/recovery', material.accountId);
  return unlockAccountSecrets(material, masterKey);
}

function unlockAccountSecrets(material: AccountKeyMaterial, masterKey: Uint8Array): UnlockedKeys {
  const { accountId } = material;
  const x25519SecretKey = unwrap(masterKey, material.wrappedX25519SecretKey, 'x25519-secret', accountId);
  const ed25519Seed = unwrap(masterKey, material.wrappedEd25519SecretKey, 'ed25519-secret', accountId);
  const x25519PublicKey = fromBase64Url(material.x25519PublicKey);
  const ed25519PublicKey = fromBase64Url(material.ed25519PublicKey);
  // A server that swapped in its own public keys would otherwise receive data meant for us.
  if (
    x25519SecretKey.length !== 32 ||
    ed25519Seed.length !== 32 ||
    !constantTimeEqual(x25519.getPublicKey(x25519SecretKey), x25519PublicKey) ||
    !constantTimeEqual(ed25519PublicKeyFromSeed(ed25519Seed), ed25519PublicKey)
  ) {
    throw new Error('key bundle does not match its public keys');
  }
  return { masterKey, x25519SecretKey, x25519PublicKey, ed25519Seed, ed25519PublicKey };
}

export async function rewrapForPassword(input: {
  accountId: string;
  masterKey: Uint8Array;
  password: string;
  kdf?: KdfCost;
  argon2id?: Argon2id;
}): Promise<{
  kdf: { salt: string; opsLimit: number; memLimit: number };
  loginPublicKey: string;
  wrappedMasterKey: string;
  loginSeed: Uint8Array;
}> {
  if (input.masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  const kdf = freshKdfParams(input.kdf);
  const secrets = await derivePasswordSecrets(input.password, kdf, input.argon2id);
  return {
    kdf: { salt: toBase64Url(kdf.salt), opsLimit: kdf.opsLimit, memLimit: kdf.memLimit },
    loginPublicKey: toBase64Url(secrets.loginPublicKey),
    wrappedMasterKey: wrap(secrets.kek, input.masterKey, 'master-key/password', input.accountId),
    loginSeed: secrets.loginSeed,
  };
}
