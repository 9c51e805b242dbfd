import type { ApiClient } from '../api.js';
import { type Messenger, memoryKeyBook, receiveMessages, sendText, turnOnMessaging } from '../messaging.js';
import { formatMinute as time, table } from './format.js';
import type { CliState } from './state.js';
import { printable } from './terminal-text.js';

// The phone's side of Mi Message: messages by verified number, sealed and signed here, opened and
// checked here. The server only routes the sealed copies; this device's secret keys stay in the
// state file (mode 600).

export interface MessagesFlags {
  number?: string;
  to?: string;
}

/** How many message ids are remembered to drop a copy delivered twice; older ones have long been acknowledged. */
export const SEEN_MESSAGES_KEPT = 1000;

export function requireDevice(state: CliState) {
  if (!state.deviceToken || !state.deviceId) throw new Error('this CLI is not registered as a device: run `register --name …` first');
  return state.deviceId;
}

function messenger(state: CliState): Messenger {
  const deviceId = requireDevice(state);
  if (!state.messaging) throw new Error('messaging is off on this device: run `messages on --number +44…` first');
  return { deviceId, number: state.messaging.number, keys: state.messaging.keys };
}

const requiredNumber = (value: string | undefined, flag: string) => {
  if (!value) throw new Error(`--${flag} is required (an E.164 number such as +447700900123)`);
  return value;
};

const keysChangedNotice = (number: string) =>
  `notice: ${number}'s messaging keys changed since last time (a new phone, or keys that are not theirs): check with them another way`;

/** `messages on|off|status`: returns what to save. */
export async function runMessagesCommand(api: ApiClient, state: CliState, sub: string | undefined, flags: MessagesFlags): Promise<Partial<CliState>> {
  const deviceId = requireDevice(state);
  switch (sub) {
    case 'on': {
      const number = requiredNumber(flags.number, 'number');
      // Fresh keys would tell everyone who wrote to this number that its keys changed: keep the ones it has.
      if (state.messaging?.number === number && (await api.messagingStatus()).identity?.ed25519PublicKey === state.messaging.keys.ed25519PublicKey) {
        console.log(`messaging is already on for ${number}`);
        return {};
      }
      const me = await turnOnMessaging(api, { deviceId, number });
      console.log(`messaging is on for ${me.number}; others with messaging on can now send to it`);
      return { messaging: { number: me.number, keys: me.keys } };
    }
    case 'off':
      await api.turnMessagingOff();
      console.log('messaging is off for this device, and its messaging keys are forgotten');
      return { messaging: undefined };
    case undefined:
    case 'status': {
      const { identity, ownDevices } = await api.messagingStatus();
      console.log(identity ? `messaging is on for ${identity.number} since ${time(identity.since)}` : 'messaging is off for this device');
      const others = ownDevices.filter((d) => d.deviceId !== deviceId);
      if (others.length > 0) {
        console.log("\nthe account's other devices with messaging on (they see what this one sends):");
        console.log(table(['device', 'number', 'since'], others.map((d) => [d.deviceId, d.number, time(d.since)])));
      }
      return {};
    }
    default:
      throw new Error(`unknown messages command "${sub}": say on --number N, off or status`);
  }
}

export async function sendMessage(api: ApiClient, state: CliState, flags: MessagesFlags, text: string | undefined) {
  const me = messenger(state);
  const to = requiredNumber(flags.to, 'to');
  if (text === undefined || text === '') throw new Error('--text is required: the message to send');
  const keyBook = memoryKeyBook(state.keyBook);
  const result = await sendText(api, me, { to, text }, keyBook);
  if (result.keysChanged) console.log(keysChangedNotice(to));
  if (!result.reachable) throw new Error(`${to} does not have messaging on: nothing was sent`);
  console.log(`sent to ${result.queued} device(s)`);
  if (result.undelivered.length > 0) console.log(`${result.undelivered.length} device(s) did not take it: ${undeliveredReasons(result.undelivered)}`);
  return { keyBook: keyBook.toJSON() };
}

const undeliveredReasons = (undelivered: readonly { reason: string }[]) =>
  [...new Set(undelivered.map((u) => (u.reason === 'queue_full' ? 'too many messages waiting' : 'messaging turned off')))].join(', ');

/**
 * Fetches, verifies, opens and acknowledges what waits for this device. A copy shown is
 * acknowledged (deleted on the server); its id is remembered so that a copy delivered again,
 * because the acknowledgement was lost, is not shown twice.
 */
export async function showInbox(api: ApiClient, state: CliState) {
  const me = messenger(state);
  const keyBook = memoryKeyBook(state.keyBook);
  const seen = new Set(state.seenMessages ?? []);
  const { messages, rejected, stoppedBy } = await receiveMessages(api, me, { keyBook, seen });
  for (const message of messages) {
    if (message.keyChanged) console.log(keysChangedNotice(message.from));
    const who = message.outgoing ? `you → ${message.recipients.map((n) => printable(n)).join(', ')}` : printable(message.from);
    console.log(`${time(message.sentAt)}  ${who}: ${printable(message.text)}`);
  }
  for (const copy of rejected) console.log(`rejected a copy (${printable(copy.copyId)}): ${printable(copy.reason)}`);
  if (messages.length === 0 && rejected.length === 0) console.log('no new messages');
  if (stoppedBy) {
    // What was shown is saved below; the rest stays queued on the server for the next run.
    console.error(`error: stopped part-way (${(stoppedBy as Error).message}); run inbox again for the rest`);
    process.exitCode = 1;
  }
  return { keyBook: keyBook.toJSON(), seenMessages: [...seen].slice(-SEEN_MESSAGES_KEPT) };
}

export async function block(api: ApiClient, state: CliState, flags: MessagesFlags) {
  requireDevice(state);
  const { number } = await api.blockNumber(requiredNumber(flags.number, 'number'));
  console.log(`blocked ${number}: its messages are dropped before they reach this account (the sender is not told)`);
}

export async function unblock(api: ApiClient, state: CliState, flags: MessagesFlags) {
  requireDevice(state);
  const number = requiredNumber(flags.number, 'number');
  await api.unblockNumber(number);
  console.log(`unblocked ${number}`);
}

export async function listBlocks(api: ApiClient, state: CliState) {
  requireDevice(state);
  const { blocks } = await api.blockedNumbers();
  if (blocks.length === 0) return void console.log('no blocked numbers');
  console.log(table(['number', 'since'], blocks.map((b) => [b.number, time(b.since)])));
}
