import { z } from 'zod';
import { base64urlBytes, id, publicKey, sealedKey, timestamp } from './common.js';
import { email, kdfParams, proof } from './accounts.js';

const method = z.enum(['password', 'recovery']).default('password').meta({
  description: 'password: sign with the password-derived key; recovery: sign with the recovery-key-derived key',
});

const trustedClient = z
  .string()
  .regex(/^htc_[A-Za-z0-9_-]{22}\.[0-9]{1,16}\.[A-Za-z0-9_-]{43}$/, 'must be a trusted-client token (htc_…) from an earlier login')
  .optional()
  .meta({
    description:
      'The trustedClient of an earlier login to this account (browsers send the cookie instead): lets this client log in while strangers have exhausted the account-wide limit',
  });

export const challengeBody = z.strictObject({ email, method, trustedClient }).meta({ id: 'ChallengeRequest' });

export const challengeResponse = z
  .object({
    challengeId: z.string(),
    challenge: base64urlBytes(32, 'Random bytes to sign'),
    origin: z.string().meta({ description: 'The origin the signature is bound to', example: 'https://homing.example' }),
    expiresAt: timestamp('When the challenge stops being accepted'),
    kdf: kdfParams.optional().meta({ description: 'Argon2id parameters (password method only)' }),
  })
  .meta({ id: 'Challenge' });

export const loginBody = z
  .strictObject({
    challengeId: id('From POST /v1/auth/challenge'),
    signature: base64urlBytes(64, 'Ed25519 signature of the login challenge message (docs/CRYPTO.md)'),
    session: z
      .enum(['bearer', 'cookie'])
      .default('bearer')
      .meta({ description: 'bearer: token in the body (apps, CLI); cookie: HttpOnly cookie + CSRF token (web page)' }),
    label: z.string().trim().min(1).max(100).optional().meta({ description: 'Shown in the session list', example: 'CLI on laptop' }),
    deviceToken: z
      .string()
      .regex(/^hd_[A-Za-z0-9_-]{43}$/, 'must be a device token (hd_…)')
      .optional()
      .meta({ description: "Logging in on a registered phone: its device token, so the session is bound to the phone and ends when the device is removed" }),
    trustedClient,
  })
  .meta({ id: 'LoginRequest' });

export const keyBundle = z
  .object({
    kdf: kdfParams,
    wrappedMasterKey: sealedKey('Master key sealed by the password kek (password method)').optional(),
    recoveryWrappedMasterKey: sealedKey('Master key sealed by the recovery kek (recovery method)').optional(),
    x25519PublicKey: publicKey('X25519 public key'),
    wrappedX25519SecretKey: sealedKey('X25519 secret sealed by the master key'),
    ed25519PublicKey: publicKey('Ed25519 command public key'),
    wrappedEd25519SecretKey: sealedKey('Ed25519 seed sealed by the master key'),
  })
  .meta({ id: 'KeyBundle' });

export const sessionInfo = z
  .object({
    id: z.string(),
    kind: z.enum(['bearer', 'cookie']),
    expiresAt: timestamp('Absolute expiry'),
    token: z.string().optional().meta({ description: 'Bearer sessions only: the token (hs_…), shown once' }),
    csrfToken: z.string().optional().meta({ description: 'Cookie sessions only: send as X-CSRF-Token on every change' }),
  })
  .meta({ id: 'NewSession' });

export const loginResponse = z
  .object({
    accountId: z.string(),
    method: z.enum(['password', 'recovery']),
    session: sessionInfo,
    keys: keyBundle,
    trustedClient: z.string().optional().meta({
      description: 'Bearer sessions only (cookie sessions get it as an HttpOnly cookie): keep it and send it with later challenges and logins to this account',
    }),
  })
  .meta({ id: 'LoginResponse' });

export const reauthenticateResponse = z
  .object({ reauthenticatedAt: timestamp('When this session last proved the password') })
  .meta({ id: 'ReauthenticateResponse' });

export const currentSession = z
  .object({
    accountId: z.string(),
    sessionId: z.string(),
    kind: z.enum(['bearer', 'cookie']),
    reauthenticatedAt: timestamp('Last signed proof').nullable(),
    csrfToken: z.string().optional(),
  })
  .meta({ id: 'CurrentSession' });

export { proof };
