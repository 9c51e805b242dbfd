import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { boxSeal, boxSealOpen } from './box-seal.js';
import {
  encodeMessageBody,
  MAX_MESSAGE_TEXT,
  MESSAGE_SIGNATURE_BYTES,
  MESSAGE_VERSION,
  messageSigningBytes,
  type MessageBody,
} from '../../protocol/messages.js';
import { concatBytes, fromBase64Url, parseUtf8Json, randomBytes, toBase64Url } from '../../protocol/encoding.js';
import { ed25519PublicKeyFromSeed, signDetached, verifyDetached } from '../../protocol/signing.js';

// Sealing, signing, opening and checking one copy of a device-to-device message (docs/CRYPTO.md
// §12; the body format is src/protocol/messages.ts). A copy is
//   crypto_box_seal(signature (64) ‖ bodyBytes, recipient X25519 key),
//   signature = crypto_sign_detached("homing/v1/message\n" ‖ bodyBytes, sender Ed25519 key).
// The seal hides the message from the server; the signature, checked against the key the server
// states for the sending device, is what makes a body impossible to forge or to pass on.

/** A device's messaging keys, base64url (the raw 32-byte X25519 secret and Ed25519 seed), storable as JSON. */
export interface MessagingKeyPair {
  x25519PublicKey: string;
  x25519SecretKey: string;
  ed25519PublicKey: string;
  ed25519Seed: string;
}

export function createMessagingKeys(): MessagingKeyPair {
  const x25519SecretKey = x25519.utils.randomSecretKey();
  const ed25519Seed = ed25519.utils.randomSecretKey();
  try {
    return {
      x25519PublicKey: toBase64Url(x25519.getPublicKey(x25519SecretKey)),
      x25519SecretKey: toBase64Url(x25519SecretKey),
      ed25519PublicKey: toBase64Url(ed25519PublicKeyFromSeed(ed25519Seed)),
      ed25519Seed: toBase64Url(ed25519Seed),
    };
  } finally {
    x25519SecretKey.fill(0);
    ed25519Seed.fill(0);
  }
}

/** A 22-character message id (16 random bytes), the same in every copy of one message. */
export const newMessageId = () => toBase64Url(randomBytes(16));

function key32(text: string, name: string): Uint8Array {
  const bytes = fromBase64Url(text);
  if (bytes.length !== 32) throw new Error(`message: ${name} must be 32 bytes`);
  return bytes;
}

/** base64url(crypto_box_seal(signature(64) ‖ bodyBytes, recipientX25519)), signature = Ed25519(messageSigningBytes(bodyBytes)). */
export function sealMessage(body: MessageBody, senderEd25519Seed: string, recipientX25519PublicKey: string): string {
  const problem = bodyProblem(body);
  if (problem) throw new Error(`message: ${problem}`);
  const bodyBytes = encodeMessageBody(body);
  const seed = key32(senderEd25519Seed, 'the sender Ed25519 seed');
  try {
    const signature = signDetached(seed, messageSigningBytes(bodyBytes));
    return toBase64Url(boxSeal(concatBytes(signature, bodyBytes), key32(recipientX25519PublicKey, 'the recipient X25519 key')));
  } finally {
    seed.fill(0);
  }
}

export type RejectReason = 'unopenable' | 'malformed' | 'bad_signature' | 'wrong_recipient' | 'sender_mismatch' | 'unknown_sender_key';

/** A copy that failed a check: the recipient drops it (and acknowledges it, so it does not come back). */
export class MessageRejected extends Error {
  override name = 'MessageRejected';
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opens and checks one copy, in this order (each failure its own reason):
 *  1. crypto_box_seal_open with the recipient's X25519 pair (unopenable: not sealed to this
 *     device, or changed on the way);
 *  2. the Ed25519 signature over the body bytes as received, with the key the server states for
 *     the sending device (bad_signature: forged, or the JSON changed after signing) — before
 *     parsing, so nothing unsigned is ever interpreted;
 *  3. the body parses as a v1 body (malformed);
 *  4. to.deviceId and to.x25519PublicKey are this device's (wrong_recipient: a recipient re-sealed
 *     a copy it received to someone else);
 *  5. from.number and from.deviceId are the sending device the server states (sender_mismatch: a
 *     body signed by one sender cannot be passed off as another's).
 * Whether the sender's key is the one known for that number is the caller's check
 * (receiveMessages: unknown_sender_key).
 */
export function openMessage(
  sealed: string,
  recipient: { deviceId: string; number: string; keys: MessagingKeyPair },
  sender: { deviceId: string; number: string; ed25519PublicKey: string },
): MessageBody {
  let plain: Uint8Array;
  try {
    const secretKey = key32(recipient.keys.x25519SecretKey, 'the recipient X25519 secret key');
    try {
      plain = boxSealOpen(fromBase64Url(sealed), key32(recipient.keys.x25519PublicKey, 'the recipient X25519 key'), secretKey);
    } finally {
      secretKey.fill(0);
    }
  } catch {
    throw new MessageRejected('unopenable', 'message: cannot open this copy with this device key');
  }
  if (plain.length <= MESSAGE_SIGNATURE_BYTES) throw new MessageRejected('malformed', 'message: too short to hold a signature and a body');
  const signature = plain.subarray(0, MESSAGE_SIGNATURE_BYTES);
  const bodyBytes = plain.subarray(MESSAGE_SIGNATURE_BYTES);
  let senderKey: Uint8Array;
  try {
    senderKey = key32(sender.ed25519PublicKey, 'the sender Ed25519 key');
  } catch {
    throw new MessageRejected('bad_signature', "message: the sender's stated key is not an Ed25519 key");
  }
  if (!verifyDetached(senderKey, messageSigningBytes(bodyBytes), signature)) {
    throw new MessageRejected('bad_signature', "message: the signature does not verify with the sending device's key");
  }
  const body = parseMessageBody(bodyBytes);
  if (body.to.deviceId !== recipient.deviceId || body.to.x25519PublicKey !== recipient.keys.x25519PublicKey) {
    throw new MessageRejected('wrong_recipient', 'message: this copy is addressed to another device');
  }
  if (body.from.number !== sender.number || body.from.deviceId !== sender.deviceId) {
    throw new MessageRejected('sender_mismatch', 'message: the body names another sender than the one that sent it');
  }
  return body;
}

const MESSAGE_ID = /^[A-Za-z0-9_-]{22}$/;
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const hasOnlyKeys = (value: Record<string, unknown>, keys: string[]) => Object.keys(value).every((key) => keys.includes(key));

/** Why a value is not a v1 message body, or undefined when it is one. Unknown fields are refused: v1 has exactly these. */
function bodyProblem(value: unknown): string | undefined {
  if (!isRecord(value) || !hasOnlyKeys(value, ['v', 'id', 'from', 'to', 'recipients', 'sentAt', 'text'])) return 'the body must be an object with the v1 fields';
  const { v, id, from, to, recipients, sentAt, text } = value;
  if (v !== MESSAGE_VERSION) return `v must be ${MESSAGE_VERSION}`;
  if (typeof id !== 'string' || !MESSAGE_ID.test(id)) return 'id must be a 22-character id';
  if (!isRecord(from) || !hasOnlyKeys(from, ['number', 'deviceId']) || !isNonEmptyString(from.number) || !isNonEmptyString(from.deviceId)) {
    return 'from must be { number, deviceId }';
  }
  if (
    !isRecord(to) ||
    !hasOnlyKeys(to, ['number', 'deviceId', 'x25519PublicKey']) ||
    !isNonEmptyString(to.number) ||
    !isNonEmptyString(to.deviceId) ||
    !isNonEmptyString(to.x25519PublicKey)
  ) {
    return 'to must be { number, deviceId, x25519PublicKey }';
  }
  if (!Array.isArray(recipients) || recipients.length === 0 || !recipients.every(isNonEmptyString)) return 'recipients must be numbers';
  if (typeof sentAt !== 'number' || !Number.isSafeInteger(sentAt) || sentAt < 0) return 'sentAt must be Unix milliseconds';
  if (typeof text !== 'string' || text.length > MAX_MESSAGE_TEXT) return `text must be a string of at most ${MAX_MESSAGE_TEXT} characters`;
  return undefined;
}

function parseMessageBody(bytes: Uint8Array): MessageBody {
  const parsed = parseUtf8Json(bytes);
  const problem = parsed ? bodyProblem(parsed.value) : 'the body is not UTF-8 JSON';
  if (problem) throw new MessageRejected('malformed', `message: ${problem}`);
  return parsed!.value as MessageBody;
}
