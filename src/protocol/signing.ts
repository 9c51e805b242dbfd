import { ed25519 } from '@noble/curves/ed25519.js';

export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** = crypto_sign_detached with the secret key from crypto_sign_seed_keypair(seed). Deterministic. */
export function signDetached(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

/**
 * Accepts what crypto_sign_verify_detached accepts for honestly generated keys: canonical encodings
 * (zip215: false), no small-order public key or R. Requiring prime-order A and R makes noble's
 * cofactored equation agree with libsodium's cofactorless one.
 */
export function verifyDetached(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    if (!isPrimeOrderPoint(publicKey) || !isPrimeOrderPoint(signature.subarray(0, 32))) return false;
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

function isPrimeOrderPoint(encoded: Uint8Array): boolean {
  const point = ed25519.Point.fromBytes(encoded, false);
  return !point.isSmallOrder() && point.isTorsionFree();
}
