import { z } from 'zod';
import { phoneNumber } from './accounts.js';
import { id, publicKey, timestamp } from './common.js';

// Device-to-device messages (features/messaging; the format is src/protocol/messages.ts). Every
// route takes a device token: messaging belongs to a phone, and its keys never leave it.

export const MAX_LOOKUP_NUMBERS = 50;
export const MAX_COPIES_PER_MESSAGE = 32;
export const MAX_INBOX_PAGE = 100;
export const MAX_ACK_IDS = 500;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const messagingOnBody = z
  .strictObject({
    number: phoneNumber.meta({ description: 'A number this device verified by SIM-change verification' }),
    x25519PublicKey: publicKey("The device's messaging X25519 key: senders seal to it"),
    ed25519PublicKey: publicKey("The device's messaging Ed25519 key: it signs what the device sends"),
  })
  .meta({ id: 'MessagingOnRequest' });

export const recipientDevice = z
  .object({ deviceId: z.string(), x25519PublicKey: z.string(), ed25519PublicKey: z.string() })
  .meta({ id: 'MessagingDevice' });

export const messagingIdentity = recipientDevice
  .extend({ number: z.string(), since: timestamp('Messaging turned on') })
  .meta({ id: 'MessagingIdentity' });

export const messagingStatus = z
  .object({
    identity: messagingIdentity.nullable().meta({ description: "This device's identity, or null while messaging is off" }),
    ownDevices: z
      .array(messagingIdentity)
      .meta({ description: "The account's other devices with messaging on: a sender seals a copy to each, so they show what it sent" }),
  })
  .meta({ id: 'MessagingStatus' });

export const lookupBody = z
  .strictObject({ numbers: z.array(phoneNumber).min(1).max(MAX_LOOKUP_NUMBERS) })
  .meta({ id: 'MessagingLookupRequest' });

export const lookupResponse = z
  .object({
    results: z.array(
      z.object({
        number: z.string(),
        devices: z.array(recipientDevice).meta({ description: 'Empty for a number that is unknown and for one whose messaging is off: the two are one answer' }),
      }),
    ),
    lookupsLeft: z.number().int().meta({ description: 'Numbers this account may still look up today' }),
  })
  .meta({ id: 'MessagingLookup' });

export const sealedCopy = z
  .strictObject({
    deviceId: id('The recipient device'),
    sealed: z
      .string()
      .min(1)
      .regex(BASE64URL, 'must be base64url without padding')
      .meta({ description: 'crypto_box_seal(signature ‖ body) to that device (docs/CRYPTO.md §12)' }),
  })
  .meta({ id: 'SealedCopy' });

export const sendBody = z
  .strictObject({
    messageId: id('Chosen by the sender, the same in every copy; sending again with it is harmless'),
    copies: z.array(sealedCopy).min(1).max(MAX_COPIES_PER_MESSAGE),
  })
  .meta({ id: 'SendMessageRequest' });

export const sendResponse = z
  .object({
    messageId: z.string(),
    queued: z.array(z.string()).meta({ description: 'Devices a copy waits for' }),
    undelivered: z
      .array(z.object({ deviceId: z.string(), reason: z.enum(['not_receiving', 'queue_full']) }))
      .meta({ description: 'not_receiving: that device has messaging off (look the number up again); queue_full: it has too many copies waiting' }),
  })
  .meta({ id: 'SendMessageResult' });

export const inboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_INBOX_PAGE).default(MAX_INBOX_PAGE),
});

export const inboxCopy = z
  .object({
    id: z.string().meta({ description: "The copy's id, to acknowledge it with" }),
    sealed: z.string(),
    receivedAt: timestamp('Reached the server'),
    from: z
      .object({ deviceId: z.string(), number: z.string(), ed25519PublicKey: z.string() })
      .meta({ description: 'The sending device as the server knows it: check the signature with this key and the key against the directory' }),
  })
  .meta({ id: 'InboxCopy' });

export const inboxResponse = z
  .object({
    messages: z.array(inboxCopy).meta({ description: 'Oldest first; each stays until acknowledged or expired' }),
    more: z.boolean(),
  })
  .meta({ id: 'Inbox' });

export const ackBody = z.strictObject({ ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_ACK_IDS) }).meta({ id: 'AckMessagesRequest' });

export const ackResponse = z
  .object({ acknowledged: z.number().int().meta({ description: "This device's copies deleted now; ids already gone or not this device's count for nothing" }) })
  .meta({ id: 'AckMessagesResult' });

export const blockBody = z.strictObject({ number: phoneNumber }).meta({ id: 'BlockRequest' });

export const blockedNumber = z.object({ number: z.string(), since: timestamp('Blocked') }).meta({ id: 'BlockedNumber' });

export const blockList = z.object({ blocks: z.array(blockedNumber) }).meta({ id: 'BlockList' });

export const numberParam = z.object({ number: phoneNumber.meta({ description: 'E.164, with the + escaped as %2B' }) });
