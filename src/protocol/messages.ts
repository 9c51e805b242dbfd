import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toBase64Url, utf8 } from './encoding.js';

// The device-to-device message (docs/CRYPTO.md §12). The sender writes a body naming itself and
// the one recipient device, signs it with its Ed25519 messaging key, and seals signature‖body
// to that device's X25519 key with crypto_box_seal: one copy per recipient device, and one per
// the sender's own other devices. The server routes sealed copies and can read none of them.
//
// What the signature binds, and why:
// - from.number and from.deviceId: a signed body cannot be passed off as another sender's;
// - to.deviceId and to.x25519PublicKey: a recipient cannot re-seal what it received to someone
//   else and have it look addressed to them;
// - recipients: the sender's own devices know whom a message they did not write went to;
// - messageId and sentAt: the recipient drops a second copy of the same message.

export const MESSAGE_SIGNATURE_PREFIX = 'homing/v1/message\n';
export const MESSAGE_SIGNATURE_BYTES = 64;
export const MESSAGE_VERSION = 1;
/** The longest text a message body carries, in characters (UTF-16 code units, as JS counts). */
export const MAX_MESSAGE_TEXT = 4000;

export interface MessageParty {
  /** E.164. */
  number: string;
  deviceId: string;
}

export interface MessageBody {
  v: typeof MESSAGE_VERSION;
  /** 22-character id chosen by the sender, the same in every copy of one message. */
  id: string;
  from: MessageParty;
  /** This copy's device: another's, or one of the sender's own other devices (which then show the message as sent). */
  to: MessageParty & { x25519PublicKey: string };
  /** The numbers the message is addressed to, the same in every copy (one, for now). */
  recipients: string[];
  /** Unix ms, by the sender's clock. */
  sentAt: number;
  text: string;
}

/** The body's bytes as signed and sealed: JSON with the keys in this order. Recipients verify the bytes they received, not a re-encoding. */
export function encodeMessageBody(body: MessageBody): Uint8Array {
  return utf8(
    JSON.stringify({
      v: body.v,
      id: body.id,
      from: { number: body.from.number, deviceId: body.from.deviceId },
      to: { number: body.to.number, deviceId: body.to.deviceId, x25519PublicKey: body.to.x25519PublicKey },
      recipients: body.recipients,
      sentAt: body.sentAt,
      text: body.text,
    }),
  );
}

/** What the Ed25519 signature is over: utf8("homing/v1/message\n") ‖ body bytes. */
export const messageSigningBytes = (bodyBytes: Uint8Array) => concatBytes(utf8(MESSAGE_SIGNATURE_PREFIX), bodyBytes);

export interface DeviceKeys {
  deviceId: string;
  x25519PublicKey: string;
  ed25519PublicKey: string;
}

/**
 * A short fingerprint of the set of device keys a number has, computed by the client from what
 * the directory returned: base64url(SHA-256(sorted "deviceId x25519 ed25519" lines))[0..22].
 * A client keeps it per number and tells its user when it changes (a new phone, or a server
 * substituting keys).
 */
export function keySetFingerprint(devices: readonly DeviceKeys[]): string {
  const lines = devices.map((d) => `${d.deviceId} ${d.x25519PublicKey} ${d.ed25519PublicKey}\n`).sort();
  return toBase64Url(sha256(utf8(lines.join('')))).slice(0, 22);
}
