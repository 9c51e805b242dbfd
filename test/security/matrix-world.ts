import { randomBytes } from 'node:crypto';
import { logIn, signUp } from '../../src/client/account.js';
import { signCommand } from '../../src/client/crypto/commands.js';
import { sealLocation } from '../../src/client/crypto/location.js';
import type { Challenge } from '../../src/client/api.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { ed25519PublicKeyFromSeed } from '../../src/protocol/signing.js';
import type { PushService } from '../fakes/push-service.js';
import { fakeSealed, sha256Hex } from '../features/sync-helpers.js';
import { TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { apiAt, freshAddress, json, postLogin, randomId, randomSeed, requestChallenge, signFor } from './helpers.js';

// The people of the authorization matrix. The victim owns one of everything the API can name, so
// that every operation has a real object of someone else's to aim at; the attacker (another
// account, with a session, a device and a collection of its own) and a sibling device of the
// victim's are made fresh for each operation, so that what one operation does to the caller's
// own state cannot change the answers of the next.

/** Everything of the victim's that a request can name: path parameters and body fields. */
export interface Ids {
  accountId: string;
  email: string;
  phoneNumber: string;
  deviceId: string;
  identifierHash: string;
  sessionId: string;
  collectionId: string;
  itemId: string;
  blobId: string;
  /** The blob of the upload in progress, still pending. */
  pendingBlobId: string;
  uploadId: string;
  commandId: string;
  eventId: string;
  /** The code the SMS carried for the victim's pending SIM verification. */
  simCode: string;
  /** The owner's browser subscription, and the phone's own. */
  subscriptionId: string;
  deviceSubscriptionId: string;
  pushEndpoint: string;
  devicePushEndpoint: string;
  /** A deletion receipt of the victim's (public by its unguessable id). */
  receiptId: string;
}

const bytes = (n: number) => toBase64Url(randomBytes(n));
const registration = (name: string) => ({ name, model: 'Pixel 9', platform: 'android' as const, identifierHash: bytes(32) });

/** Ids of the same shapes that name nothing: what "does not exist" looks like. */
export function unknownIds(victim: Ids): Ids {
  const endpoint = () => victim.pushEndpoint.replace(/[^/]+$/, bytes(12));
  return {
    accountId: randomId(),
    email: uniqueEmail('nobody'),
    phoneNumber: `+4477009${String(randomBytes(3).readUIntBE(0, 3) % 100_000).padStart(5, '0')}`,
    deviceId: randomId(),
    identifierHash: bytes(32),
    sessionId: randomId(),
    collectionId: randomId(),
    itemId: randomId(),
    blobId: randomId(),
    pendingBlobId: randomId(),
    uploadId: randomId(),
    commandId: randomId(),
    eventId: randomId(),
    simCode: String(randomBytes(3).readUIntBE(0, 3) % 1_000_000).padStart(6, '0'),
    subscriptionId: randomId(),
    deviceSubscriptionId: randomId(),
    pushEndpoint: endpoint(),
    devicePushEndpoint: endpoint(),
    receiptId: randomId(),
  };
}

export interface Victim {
  ids: Ids;
  /** Every string of the victim's that no other caller may ever be shown. */
  secrets: [name: string, value: string][];
  /** Byte strings of the victim's: the stored blob and the part uploaded so far. */
  secretBytes: [name: string, value: Buffer][];
  /** Credentials that once were the victim's and must now open nothing. */
  revokedSessionToken: string;
  removedDeviceToken: string;
  /** Opens sibling devices for each operation. */
  ownerSessionToken: string;
}

export async function createVictim(t: TestApp, push: PushService): Promise<Victim> {
  const email = uniqueEmail('victim');
  const password = 'victim-password';
  const phoneNumber = '+447700900111';
  const address = freshAddress();
  const { accountId } = await signUp(apiAt(t, address), { birthYear: 1990, email, password, phoneNumber, kdf: TEST_KDF });
  const session = async (label: string) => {
    const api = apiAt(t, freshAddress());
    const loggedIn = await logIn(api, { email, password, label });
    return { api, ...loggedIn };
  };
  const owner = await session('victim laptop');
  const spare = await session('victim tablet browser');
  const revoked = await session('victim old browser');
  await revoked.api.logout();

  // The phone, registered first so the owner's session is bound to it and survives the removal below.
  const phoneRegistration = registration(`victim phone ${bytes(6)}`);
  const phone = await owner.api.registerDevice(phoneRegistration);
  const phoneApi = apiAt(t, freshAddress(), { deviceToken: phone.token });
  await owner.api.setFindEnabled(phone.device.id, true);
  const removed = await owner.api.registerDevice(registration('victim lost tablet'));
  await owner.api.removeDevice(removed.device.id);

  // Sync: a collection, a committed blob, an item holding it, and an upload with its one part sent.
  const collection = { id: randomId(), kind: 'photos', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) };
  await owner.api.createCollection(collection);
  const blobBytes = randomBytes(4096);
  const blob = await owner.api.uploadBlob(blobBytes, blobBytes.length, sha256Hex(blobBytes));
  const item = { op: 'create' as const, itemId: randomId(), collectionId: collection.id, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100), blobId: blob.blobId };
  await owner.api.applyChanges([item]);
  // One more item, deleted through the deletion API: its receipt is the victim's.
  const deletedItemId = randomId();
  await owner.api.applyChanges([{ op: 'create', itemId: deletedItemId, collectionId: collection.id, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(100) }]);
  const { receipt } = await owner.api.purge({ type: 'item', itemId: deletedItemId });
  const partBytes = randomBytes(1000);
  const upload = await owner.api.createUpload({ size: partBytes.length, sha256: sha256Hex(partBytes) });
  await owner.api.uploadPart(upload.uploadId, 1, partBytes);

  // Find Device: push subscriptions, a command handed to the phone, a location, a SIM change being verified.
  const devicePush = push.subscribe();
  const deviceSubscription = await phoneApi.setThisDevicePush({ endpoint: devicePush.endpoint, keys: devicePush.keys });
  const browserPush = push.subscribe();
  const browserSubscription = await owner.api.subscribePush({ endpoint: browserPush.endpoint, keys: browserPush.keys });
  const signed = signCommand({ deviceId: phone.device.id, type: 'ring', args: {}, issuedAt: t.clock.now(), counter: 1 }, owner.keys.ed25519Seed);
  const command = await owner.api.sendCommand(phone.device.id, signed);
  await phoneApi.pollCommands(0);
  const fix = { lat: 51.5014, lon: -0.1419, accuracy: 8, source: 'gps' as const, battery: 41, measuredAt: t.clock.now() };
  const sealedLocation = sealLocation(fix, owner.keys.x25519PublicKey);
  await phoneApi.reportLocations([sealedLocation]);
  const sim = { eventId: randomId(), kind: 'replaced' as const, simIdHash: bytes(32), carrier: `Carrier ${bytes(6)}`, claimedNumber: '+447700900222', method: 'outbound' as const };
  await phoneApi.reportSimEvent(sim);
  const simCode = t.outbox().at(-1)!.body.match(/\d{6}/)![0];
  await t.settle();

  const ids: Ids = {
    accountId,
    email,
    phoneNumber,
    deviceId: phone.device.id,
    identifierHash: phoneRegistration.identifierHash,
    sessionId: spare.response.session.id,
    collectionId: collection.id,
    itemId: item.itemId,
    blobId: blob.blobId,
    pendingBlobId: upload.blobId,
    uploadId: upload.uploadId,
    commandId: command.id,
    eventId: sim.eventId,
    simCode,
    subscriptionId: browserSubscription.id,
    deviceSubscriptionId: deviceSubscription.id,
    pushEndpoint: browserPush.endpoint,
    devicePushEndpoint: devicePush.endpoint,
    receiptId: receipt.id,
  };
  const { kdf: _salt, ...keys } = owner.response.keys; // the salt is handed to anyone who names the email (with a decoy for unknown ones)
  const secrets: [string, string][] = [
    ...Object.entries(ids).map(([name, value]) => [name, value] as [string, string]),
    ...Object.entries(keys).map(([name, value]) => [`keys.${name}`, value as string] as [string, string]),
    ['owner session token', owner.response.session.token!],
    ['spare session token', spare.response.session.token!],
    ['owner session id', owner.response.session.id],
    ['phone device token', phone.token],
    ['phone name', phoneRegistration.name],
    ['collection wrappedKey', collection.wrappedKey],
    ['collection metadata', collection.encryptedMetadata],
    ['item wrappedKey', item.wrappedKey],
    ['item metadata', item.encryptedMetadata],
    ['blob sha256', blob.sha256],
    ['upload sha256', sha256Hex(partBytes)],
    ['command signature', signed.signature],
    ['sealed location', sealedLocation],
    ['claimed SIM number', sim.claimedNumber],
    ['SIM carrier', sim.carrier],
    ['device push auth secret', devicePush.keys.auth],
    ['browser push auth secret', browserPush.keys.auth],
    ['device push key', devicePush.keys.p256dh],
    ['browser push key', browserPush.keys.p256dh],
  ];
  return {
    ids,
    secrets,
    // A 64-byte window is long enough never to turn up by chance.
    secretBytes: [
      ['blob bytes', blobBytes.subarray(0, 64)],
      ['uploaded part bytes', partBytes.subarray(0, 64)],
    ],
    revokedSessionToken: revoked.response.session.token!,
    removedDeviceToken: removed.token,
    ownerSessionToken: owner.response.session.token!,
  };
}

/** A schema-valid sign-up body; the server cannot tell random keys from real ones. */
export const signupBody = (fields: { accountId?: string; email?: string; phoneNumber?: string; loginPublicKey?: string } = {}) => ({
  accountId: fields.accountId ?? randomId(),
  email: fields.email ?? uniqueEmail('fresh'),
  birthYear: 1990,
  ...(fields.phoneNumber ? { phoneNumber: fields.phoneNumber } : {}),
  kdf: { salt: bytes(16), ...TEST_KDF },
  loginPublicKey: fields.loginPublicKey ?? bytes(32),
  wrappedMasterKey: bytes(72),
  recoveryLoginPublicKey: bytes(32),
  recoveryWrappedMasterKey: bytes(72),
  x25519PublicKey: bytes(32),
  wrappedX25519SecretKey: bytes(72),
  ed25519PublicKey: bytes(32),
  wrappedEd25519SecretKey: bytes(72),
});

/**
 * Another account with a session, a device (Find Device on) and a collection of its own. Its login
 * key is a random seed rather than one derived from a password: one is made for every operation.
 */
export async function createAttacker(t: TestApp) {
  const email = uniqueEmail('attacker');
  const seed = randomSeed();
  const address = freshAddress();
  const signedUp = await t.request('POST', '/v1/accounts', {
    body: signupBody({ email, loginPublicKey: toBase64Url(ed25519PublicKeyFromSeed(seed)) }),
    headers: { 'X-Forwarded-For': address },
  });
  if (signedUp.status !== 201) throw new Error(`attacker sign-up answered ${signedUp.status}`);
  const challenge = await json<Challenge>(await requestChallenge(t, email, address));
  const { session } = await json<{ session: { token: string } }>(await postLogin(t, signFor(challenge, seed), address));
  const api = apiAt(t, address, { sessionToken: session.token });
  const device = await api.registerDevice(registration('attacker phone'));
  await api.setFindEnabled(device.device.id, true);
  const collectionId = randomId();
  await api.createCollection({ id: collectionId, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
  return { sessionToken: session.token, deviceToken: device.token, collectionId };
}

export type Attacker = Awaited<ReturnType<typeof createAttacker>>;

/** A second device of the victim's own account, with Find Device on. */
export async function createSibling(t: TestApp, victim: Victim) {
  const owner = apiAt(t, freshAddress(), { sessionToken: victim.ownerSessionToken });
  const sibling = await owner.registerDevice(registration('victim watch'));
  await owner.setFindEnabled(sibling.device.id, true);
  return { id: sibling.device.id, token: sibling.token };
}
