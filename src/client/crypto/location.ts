import { boxSeal, boxSealOpen } from './box-seal.js';
import { fromBase64Url, parseUtf8Json, toBase64Url, utf8 } from '../../protocol/encoding.js';

// A location report is a crypto_box_seal of the fix as UTF-8 JSON to the account's X25519 public
// key: sealing needs only the public key, opening needs the account's X25519 secret key (the
// owner's unlocked apps and web page), and the server can do neither (docs/CRYPTO.md §9).

export const LOCATION_SOURCES = ['gps', 'network', 'manual', 'simulated'] as const;
export type LocationSource = (typeof LOCATION_SOURCES)[number];

export interface LocationFix {
  /** Degrees, WGS 84, in [-90, 90]. */
  lat: number;
  /** Degrees, WGS 84, in [-180, 180]. */
  lon: number;
  /** Radius in metres, ≥ 0. */
  accuracy: number;
  source: LocationSource;
  /** Percent in [0, 100], or null when unknown. */
  battery: number | null;
  /** Unix time in milliseconds when the fix was measured. */
  measuredAt: number;
}

export class InvalidLocationError extends Error {
  override name = 'InvalidLocationError';
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Checks every field and returns a copy holding only the known fields, in the canonical order. */
export function validateLocationFix(value: unknown): LocationFix {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidLocationError('location: a fix must be a JSON object');
  }
  const fix = value as Record<string, unknown>;
  const { lat, lon, accuracy, source, battery, measuredAt } = fix;
  if (!isFiniteNumber(lat) || lat < -90 || lat > 90) {
    throw new InvalidLocationError('location: lat must be a number in [-90, 90]');
  }
  if (!isFiniteNumber(lon) || lon < -180 || lon > 180) {
    throw new InvalidLocationError('location: lon must be a number in [-180, 180]');
  }
  if (!isFiniteNumber(accuracy) || accuracy < 0) {
    throw new InvalidLocationError('location: accuracy must be a number ≥ 0 (metres)');
  }
  if (typeof source !== 'string' || !(LOCATION_SOURCES as readonly string[]).includes(source)) {
    throw new InvalidLocationError(`location: source must be one of ${LOCATION_SOURCES.join(', ')}`);
  }
  if (battery !== null && (!isFiniteNumber(battery) || battery < 0 || battery > 100)) {
    throw new InvalidLocationError('location: battery must be a number in [0, 100] or null');
  }
  if (!isFiniteNumber(measuredAt) || measuredAt < 0) {
    throw new InvalidLocationError('location: measuredAt must be a Unix time in milliseconds');
  }
  return { lat, lon, accuracy, source: source as LocationSource, battery, measuredAt };
}

/** base64url(crypto_box_seal(utf8(JSON.stringify(fix)), accountX25519PublicKey)). */
export function sealLocation(fix: LocationFix, accountX25519PublicKey: Uint8Array): string {
  // Serializing a validated copy keeps stray properties (and NaN → null) out of the report.
  const plaintext = utf8(JSON.stringify(validateLocationFix(fix)));
  return toBase64Url(boxSeal(plaintext, accountX25519PublicKey));
}

/**
 * Opens a sealed report. Throws EncodingError (not base64url), DecryptionError (wrong key pair or
 * tampered), or InvalidLocationError (opened, but not a valid fix). Unknown fields are dropped.
 */
export function openLocation(sealed: string, publicKey: Uint8Array, secretKey: Uint8Array): LocationFix {
  const parsed = parseUtf8Json(boxSealOpen(fromBase64Url(sealed), publicKey, secretKey));
  if (!parsed) throw new InvalidLocationError('location: plaintext is not UTF-8 JSON');
  return validateLocationFix(parsed.value);
}
