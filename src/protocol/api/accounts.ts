import { z } from 'zod';
import { base64urlBytes, id, publicKey, sealedKey, timestamp } from './common.js';

export const email = z
  .preprocess((value) => (typeof value === 'string' ? value.trim() : value), z.email().max(254))
  .meta({ type: 'string', format: 'email', example: 'ada@example.org' });
export const phoneNumber = z
  .string()
  .regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +447700900123')
  .meta({ example: '+447700900123' });

export const kdfParams = z
  .strictObject({
    salt: base64urlBytes(16, 'Argon2id salt (crypto_pwhash_SALTBYTES)'),
    opsLimit: z.number().int().min(1).max(16).meta({ example: 2 }),
    memLimit: z
      .number()
      .int()
      .min(8192)
      .max(1024 * 1024 * 1024)
      .refine((n) => n % 1024 === 0, 'must be a multiple of 1024')
      .meta({ description: 'bytes, as crypto_pwhash memlimit', example: 67108864 }),
  })
  .meta({ id: 'KdfParams' });

/** Where a guardian is reached: an e-mail address or a mobile number. */
export const guardianContact = z
  .union([z.strictObject({ email }), z.strictObject({ phoneNumber })])
  .meta({ id: 'GuardianContact', description: 'The e-mail address or the mobile number (E.164) of a parent or guardian' });

export const signupBody = z
  .strictObject({
    accountId: id('Chosen by the client: 16 random bytes, base64url. It is bound into every wrapped key.'),
    email,
    phoneNumber: phoneNumber.optional(),
    birthYear: z
      .number()
      .int()
      .min(1900)
      .max(2100)
      .meta({
        description:
          'The year the user was born. Anyone who may be under 14 (this year minus it is 14 or less) needs a guardian, and the answer is 202 with a pending sign-up. Not stored for adults.',
        example: 1990,
      }),
    guardian: guardianContact
      .optional()
      .meta({ description: 'Required when the birth year says the user may be under 14: who is asked to consent. Ignored (and not stored) for adults.' }),
    kdf: kdfParams,
    loginPublicKey: publicKey('Ed25519 public key derived from the password'),
    wrappedMasterKey: sealedKey('Master key sealed by the password-derived kek'),
    recoveryLoginPublicKey: publicKey('Ed25519 public key derived from the recovery key'),
    recoveryWrappedMasterKey: sealedKey('Master key sealed by the recovery kek'),
    x25519PublicKey: publicKey('X25519 key that location reports are sealed to'),
    wrappedX25519SecretKey: sealedKey('X25519 secret sealed by the master key'),
    ed25519PublicKey: publicKey('Ed25519 key that signs remote commands'),
    wrappedEd25519SecretKey: sealedKey('Ed25519 seed sealed by the master key'),
  })
  .meta({ id: 'SignupRequest' });

export const signupResponse = z.object({ accountId: z.string() }).meta({ id: 'SignupResponse' });

export const accountResponse = z
  .object({
    accountId: z.string(),
    email: z.string(),
    phoneNumber: z.string().nullable(),
    createdAt: timestamp('When the account was created'),
  })
  .meta({ id: 'Account' });

export const proof = z
  .strictObject({
    challengeId: id('From POST /v1/auth/challenge'),
    signature: base64urlBytes(64, 'Ed25519 signature of the login challenge message'),
  })
  .meta({ id: 'ChallengeProof' });

export const passwordChangeBody = z
  .strictObject({
    proof: proof.meta({ description: 'A fresh challenge signed with the current password or the recovery key' }),
    kdf: kdfParams,
    loginPublicKey: publicKey('The new password-derived Ed25519 public key'),
    wrappedMasterKey: sealedKey('The master key sealed by the new kek'),
  })
  .meta({ id: 'PasswordChangeRequest' });

export const passwordChangeResponse = z
  .object({ revokedSessions: z.number().int().meta({ description: 'Other sessions signed out' }) })
  .meta({ id: 'PasswordChangeResponse' });

// ---- Personal data: read and correct the e-mail and the phone number (each after a fresh proof).

const freshProof = proof.meta({ description: 'A fresh login challenge signed with the password or the recovery key (as for a password change)' });

export const emailChangeBody = z
  .strictObject({ proof: freshProof, email: email.meta({ description: 'The new address; a code is sent to it' }) })
  .meta({ id: 'EmailChangeRequest' });

export const phoneChangeBody = z
  .strictObject({ proof: freshProof, phoneNumber: phoneNumber.meta({ description: 'The new number (E.164); a code is texted to it' }) })
  .meta({ id: 'PhoneChangeRequest' });

export const phoneRemoveBody = z.strictObject({ proof: freshProof }).meta({ id: 'PhoneRemoveRequest' });

export const verificationStarted = z
  .object({
    verificationId: z.string().meta({ description: 'Names the code in the confirm request' }),
    expiresAt: timestamp('When the code stops working'),
  })
  .meta({ id: 'VerificationStarted' });

export const verificationConfirmBody = z
  .strictObject({
    verificationId: id('From the change request'),
    code: z.string().regex(/^[0-9]{6}$/, 'must be the 6-digit code').meta({ example: '482913' }),
  })
  .meta({ id: 'VerificationConfirmRequest' });
