import type { ApiClient, InboxCopy } from './api.js';
import { createMessagingKeys, MessageRejected, newMessageId, openMessage, sealMessage, type MessagingKeyPair, type RejectReason } from './crypto/messages.js';
import { MAX_COPIES_PER_MESSAGE, MAX_INBOX_PAGE, MAX_LOOKUP_NUMBERS } from '../protocol/api/messaging.js';
import { keySetFingerprint, MAX_MESSAGE_TEXT, MESSAGE_VERSION, type DeviceKeys, type MessageBody } from '../protocol/messages.js';

// Messages between phones, on top of the HTTP calls in api.ts and the seal/sign/open/check in
// crypto/messages.ts (docs/CRYPTO.md §12). The server routes sealed copies and states who sent
// each; this module decides what to believe:
// - a sender's device keys are trusted on first use and remembered per number (KeyBook); a copy
//   signed by a key the KeyBook does not hold for that number is accepted only when the directory
//   lists that key now, and then flagged keyChanged so the user can be told (a new phone — or a
//   server substituting keys);
// - every copy is acknowledged once processed, accepted or not, so a forged copy cannot come back
//   forever; acknowledging only after processing means a crash costs a redelivery, never a loss.

/** This device as a messaging party: its id, its number and its messaging keys (keep the keys secret). */
export interface Messenger {
  deviceId: string;
  number: string;
  keys: MessagingKeyPair;
}

/** What a client remembers of each number's device keys (trust on first use); the CLI stores it in its state file. */
export interface KeyBook {
  get(number: string): DeviceKeys[] | undefined;
  set(number: string, devices: DeviceKeys[]): void;
}

export function memoryKeyBook(initial: Record<string, DeviceKeys[]> = {}): KeyBook & { toJSON(): Record<string, DeviceKeys[]> } {
  const book = new Map(Object.entries(initial).map(([number, devices]) => [number, devices.map(deviceKeys)]));
  return {
    get: (number) => book.get(number)?.map(deviceKeys),
    set: (number, devices) => void book.set(number, devices.map(deviceKeys)),
    toJSON: () => Object.fromEntries([...book].map(([number, devices]) => [number, devices.map(deviceKeys)])),
  };
}

const deviceKeys = (d: DeviceKeys): DeviceKeys => ({ deviceId: d.deviceId, x25519PublicKey: d.x25519PublicKey, ed25519PublicKey: d.ed25519PublicKey });

/** Makes fresh messaging keys on this device and publishes their public halves for a number it verified. */
export async function turnOnMessaging(api: ApiClient, input: { deviceId: string; number: string }): Promise<Messenger> {
  const keys = createMessagingKeys();
  const identity = await api.turnMessagingOn({ number: input.number, x25519PublicKey: keys.x25519PublicKey, ed25519PublicKey: keys.ed25519PublicKey });
  if (identity.deviceId !== input.deviceId) throw new Error(`messaging: the server turned messaging on for device ${identity.deviceId}, not ${input.deviceId}`);
  return { deviceId: identity.deviceId, number: identity.number, keys };
}

export interface LookedUp {
  number: string;
  /** Empty when the number is unknown or has messaging off (the server answers both alike). */
  devices: DeviceKeys[];
  /** The number's key set differs from the one the KeyBook held (false on first sight). */
  keysChanged: boolean;
}

/**
 * Looks numbers up in the directory and records their keys in the KeyBook. An empty answer leaves
 * the KeyBook as it was, so a number that comes back with other keys is still reported as changed.
 */
export async function lookUpNumbers(api: ApiClient, numbers: string[], keyBook: KeyBook): Promise<LookedUp[]> {
  const found: LookedUp[] = [];
  for (let i = 0; i < numbers.length; i += MAX_LOOKUP_NUMBERS) {
    const { results } = await api.lookUpNumbers(numbers.slice(i, i + MAX_LOOKUP_NUMBERS));
    for (const { number, devices: listed } of results) {
      const devices = listed.map(deviceKeys);
      const known = keyBook.get(number);
      const keysChanged = devices.length > 0 && known !== undefined && known.length > 0 && keySetFingerprint(known) !== keySetFingerprint(devices);
      if (devices.length > 0) keyBook.set(number, devices);
      found.push({ number, devices, keysChanged });
    }
  }
  return found;
}

export interface SentText {
  messageId: string;
  /** Copies waiting on the server for their device. */
  queued: number;
  undelivered: { deviceId: string; reason: string }[];
  /** The recipient's key set changed since the KeyBook last saw it. */
  keysChanged: boolean;
  /** false: the number has no device with messaging on, and nothing was sent. */
  reachable: boolean;
}

/**
 * Seals one copy to each of the recipient's devices and to each of this account's other devices
 * (which then show the message as sent), all with one message id, and sends them. Sending again
 * with the same messageId is harmless.
 */
export async function sendText(
  api: ApiClient,
  me: Messenger,
  input: { to: string; text: string; messageId?: string; now?: number },
  keyBook: KeyBook,
): Promise<SentText> {
  if (input.text.length > MAX_MESSAGE_TEXT) throw new Error(`messaging: a text is at most ${MAX_MESSAGE_TEXT} characters`);
  const messageId = input.messageId ?? newMessageId();
  const [lookedUp] = await lookUpNumbers(api, [input.to], keyBook);
  const recipient = lookedUp ?? { number: input.to, devices: [], keysChanged: false };
  if (recipient.devices.length === 0) return { messageId, queued: 0, undelivered: [], keysChanged: recipient.keysChanged, reachable: false };

  const { ownDevices } = await api.messagingStatus();
  const targets = new Map<string, { number: string; deviceId: string; x25519PublicKey: string }>();
  for (const device of recipient.devices) targets.set(device.deviceId, { number: recipient.number, ...device });
  for (const device of ownDevices) if (!targets.has(device.deviceId)) targets.set(device.deviceId, device);
  targets.delete(me.deviceId);

  const sentAt = input.now ?? Date.now();
  const copies = [...targets.values()].map((to) => {
    const body: MessageBody = {
      v: MESSAGE_VERSION,
      id: messageId,
      from: { number: me.number, deviceId: me.deviceId },
      to: { number: to.number, deviceId: to.deviceId, x25519PublicKey: to.x25519PublicKey },
      recipients: [recipient.number],
      sentAt,
      text: input.text,
    };
    return { deviceId: to.deviceId, sealed: sealMessage(body, me.keys.ed25519Seed, to.x25519PublicKey) };
  });

  let queued = 0;
  const undelivered: SentText['undelivered'] = [];
  for (let i = 0; i < copies.length; i += MAX_COPIES_PER_MESSAGE) {
    const result = await api.sendMessage({ messageId, copies: copies.slice(i, i + MAX_COPIES_PER_MESSAGE) });
    queued += result.queued.length;
    undelivered.push(...result.undelivered);
  }
  return { messageId, queued, undelivered, keysChanged: recipient.keysChanged, reachable: true };
}

export interface ReceivedMessage {
  id: string;
  from: string;
  fromDeviceId: string;
  recipients: string[];
  text: string;
  sentAt: number;
  receivedAt: number;
  /** Written by another device of my own account. */
  outgoing: boolean;
  /** The sender's keys changed since the KeyBook last saw them (the directory lists the new ones). */
  keyChanged: boolean;
}

export interface Received {
  messages: ReceivedMessage[];
  rejected: { copyId: string; reason: RejectReason }[];
  /** Set when a request failed part-way: what came before is here, the rest stays queued for next time. */
  stoppedBy?: unknown;
}

interface Opened {
  copy: InboxCopy;
  body: MessageBody;
  outgoing: boolean;
}

/**
 * Fetches, opens and checks every waiting copy, page by page (copies stay queued until
 * acknowledged, so a page is acknowledged before the next is fetched). `seen` holds the ids of
 * messages already shown; the caller keeps it, and this adds to it. A request failing part-way
 * throws only when nothing was received yet; otherwise the messages received so far are returned
 * (with stoppedBy), because their copies may already be acknowledged or their ids be in `seen`.
 */
export async function receiveMessages(api: ApiClient, me: Messenger, options: { keyBook: KeyBook; seen: Set<string> }): Promise<Received> {
  const received: Received = { messages: [], rejected: [] };
  let ownDevices: DeviceKeys[] | undefined;
  try {
    for (let more = true; more; ) {
      const page = await api.fetchInbox(MAX_INBOX_PAGE);
      if (page.messages.length === 0) break;
      ownDevices ??= (await api.messagingStatus()).ownDevices;
      await processPage(api, me, page.messages, ownDevices, options, received);
      await api.acknowledgeMessages(page.messages.map((copy) => copy.id));
      more = page.more;
    }
  } catch (error) {
    if (received.messages.length === 0 && received.rejected.length === 0) throw error;
    received.stoppedBy = error;
  }
  return received;
}

async function processPage(
  api: ApiClient,
  me: Messenger,
  copies: InboxCopy[],
  ownDevices: DeviceKeys[],
  { keyBook, seen }: { keyBook: KeyBook; seen: Set<string> },
  received: Received,
): Promise<void> {
  const opened: Opened[] = [];
  const rejected: Received['rejected'] = [];
  for (const copy of copies) {
    try {
      const body = openMessage(copy.sealed, me, copy.from);
      opened.push({ copy, body, outgoing: holds(ownDevices, copy.from) });
    } catch (error) {
      if (!(error instanceof MessageRejected)) throw error;
      rejected.push({ copyId: copy.id, reason: error.reason });
    }
  }
  const verdicts = await checkSenderKeys(api, opened, keyBook);
  // Nothing is recorded before every check of the page is done: a failed look-up leaves the page as it was.
  received.rejected.push(...rejected);
  for (const { copy, body, outgoing } of opened) {
    const verdict = outgoing ? 'known' : verdicts.get(copy.id);
    if (verdict === 'unknown') {
      received.rejected.push({ copyId: copy.id, reason: 'unknown_sender_key' });
      continue;
    }
    if (seen.has(body.id)) continue;
    seen.add(body.id);
    received.messages.push({
      id: body.id,
      from: body.from.number,
      fromDeviceId: body.from.deviceId,
      recipients: body.recipients,
      text: body.text,
      sentAt: body.sentAt,
      receivedAt: copy.receivedAt,
      outgoing,
      keyChanged: verdict === 'changed',
    });
  }
}

const holds = (devices: DeviceKeys[] | undefined, from: InboxCopy['from']) =>
  devices?.some((d) => d.deviceId === from.deviceId && d.ed25519PublicKey === from.ed25519PublicKey) ?? false;

/**
 * For each opened copy from another account: 'known' when the KeyBook holds its sender key for the
 * sender's number, otherwise what one directory look-up per number says: listed → 'changed' when
 * the KeyBook knew other keys for the number, 'known' on first sight (trust on first use); not
 * listed → 'unknown' (the server's inbox and its directory disagree, or the device has since
 * turned messaging off: either way the key cannot be checked).
 */
async function checkSenderKeys(api: ApiClient, opened: Opened[], keyBook: KeyBook): Promise<Map<string, 'known' | 'changed' | 'unknown'>> {
  const verdicts = new Map<string, 'known' | 'changed' | 'unknown'>();
  const toLookUp = new Map<string, boolean>(); // number → whether the KeyBook knew keys for it
  for (const { copy, outgoing } of opened) {
    if (outgoing) continue;
    const known = keyBook.get(copy.from.number);
    if (holds(known, copy.from)) verdicts.set(copy.id, 'known');
    else toLookUp.set(copy.from.number, (known?.length ?? 0) > 0);
  }
  if (toLookUp.size === 0) return verdicts;
  const listed = new Map((await lookUpNumbers(api, [...toLookUp.keys()], keyBook)).map((r) => [r.number, r.devices]));
  for (const { copy, outgoing } of opened) {
    if (outgoing || verdicts.has(copy.id)) continue;
    if (!holds(listed.get(copy.from.number), copy.from)) verdicts.set(copy.id, 'unknown');
    else verdicts.set(copy.id, toLookUp.get(copy.from.number) ? 'changed' : 'known');
  }
  return verdicts;
}
