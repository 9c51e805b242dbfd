import { createECDH, createHash, randomBytes } from 'node:crypto';
import { logIn, signUp } from '../../src/client/account.js';
import { signCommand } from '../../src/client/crypto/commands.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';
import { apiAt, freshAddress } from './helpers.js';

// What the hostile-input fuzzer aims at: an account with real credentials and, for each path
// parameter an operation names, a real resource of that account, so that a mutated request gets
// past the lookups and into the code that writes.

export interface Fixture {
  accountId: string;
  email: string;
  sessionToken: string;
  deviceToken: string;
  /** The value each path parameter takes when it is not the one being mutated. */
  pathValues: Record<string, string>;
  /** Body field values that must name this account's resources to be valid. */
  fieldValues: Record<string, unknown>;
}

const id = () => toBase64Url(randomBytes(16));

/** A real uncompressed P-256 point, which the push schemas check. */
const p256PublicKey = () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return toBase64Url(ecdh.getPublicKey());
};

/**
 * A fresh account with a registered phone and the resources that `names` (an operation's path
 * parameters and body fields) refer to. Push subscriptions are made only when asked for: the
 * server delivers to them in the background, and the fixture's endpoint is never meant to be
 * reached.
 */
export async function createFixture(t: TestApp, names: ReadonlySet<string>): Promise<Fixture> {
  const email = uniqueEmail('hostile');
  const address = freshAddress();
  const { accountId } = await signUp(apiAt(t, address), { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const { response, keys } = await logIn(apiAt(t, address), { email, password: 'pw' });
  const sessionToken = response.session.token!;
  const owner = apiAt(t, address, { sessionToken });
  const { device, token: deviceToken } = await owner.registerDevice({
    name: 'Fuzzed phone',
    model: 'Pixel 9',
    platform: 'android',
    identifierHash: toBase64Url(randomBytes(32)),
  });
  const phone = apiAt(t, address, { deviceToken });
  await owner.setFindEnabled(device.id, true);
  // Any request with the token marks the device seen; the clock stands still from here, so a
  // refused request later leaves that mark as it was.
  await phone.thisDevice();

  const pathValues: Record<string, string> = { deviceId: device.id, partNumber: '1', purpose: 'experience' };
  const fieldValues: Record<string, unknown> = {
    endpoint: `https://push.invalid/wpush/${id()}`,
    p256dh: p256PublicKey(),
    auth: toBase64Url(randomBytes(16)),
    // A number of its own, so the per-number SMS limit is not shared between fixtures.
    claimedNumber: `+4477009${String(randomBytes(3).readUIntBE(0, 3) % 100_000).padStart(5, '0')}`,
  };
  const needs = (name: string) => names.has(name);
  // The number for DELETE /v1/device/messaging/blocks/{number} (unblocking one never blocked is a 204 too).
  pathValues.number = String(fieldValues.claimedNumber);

  const collectionId = id();
  if (needs('collectionId') || needs('itemId')) {
    await owner.createCollection({ id: collectionId, kind: 'notes', wrappedKey: toBase64Url(randomBytes(72)), encryptedMetadata: toBase64Url(randomBytes(40)) });
    fieldValues.collectionId = collectionId;
    pathValues.collectionId = collectionId;
  }
  if (needs('blobId')) {
    const blobBytes = randomBytes(64);
    const blob = await owner.uploadBlob(blobBytes, blobBytes.length, createHash('sha256').update(blobBytes).digest('hex'));
    pathValues.blobId = blob.blobId;
    fieldValues.blobId = blob.blobId;
  }
  if (needs('itemId')) {
    const itemId = id();
    await owner.applyChanges([
      { op: 'create', itemId, collectionId, wrappedKey: toBase64Url(randomBytes(72)), encryptedMetadata: toBase64Url(randomBytes(100)) },
    ]);
    pathValues.itemId = itemId;
  }
  if (needs('sessionId')) {
    // Another session of the same account, so that revoking it does not end the fuzzer's own.
    const second = await logIn(apiAt(t, address), { email, password: 'pw', label: 'second' });
    pathValues.sessionId = second.response.session.id;
  }
  if (needs('uploadId')) {
    // All its parts are in, so that completing it is valid.
    const bytes = randomBytes(16);
    const upload = await owner.createUpload({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    await owner.uploadPart(upload.uploadId, 1, bytes);
    pathValues.uploadId = upload.uploadId;
  }
  if (needs('signature') && needs('counter')) {
    // A command signed for the phone, so that only the mutation can make it invalid.
    Object.assign(fieldValues, signCommand({ deviceId: device.id, type: 'ring', args: {}, issuedAt: t.clock.now(), counter: 2 }, keys.ed25519Seed));
  }
  if (needs('commandId')) {
    const command = await owner.sendCommand(device.id, signCommand({ deviceId: device.id, type: 'ring', args: {}, issuedAt: t.clock.now(), counter: 1 }, keys.ed25519Seed));
    await phone.pollCommands(0); // handed out, so that an acknowledgement finds it
    pathValues.commandId = command.id;
  }
  if (needs('eventId')) {
    const eventId = id();
    await phone.reportSimEvent({ eventId, kind: 'replaced', simIdHash: toBase64Url(randomBytes(32)), carrier: 'Fuzz', claimedNumber: String(fieldValues.claimedNumber), method: 'outbound' });
    pathValues.eventId = eventId;
  }
  if (needs('subscriptionId')) {
    const subscription = await owner.subscribePush({ endpoint: String(fieldValues.endpoint), keys: { p256dh: String(fieldValues.p256dh), auth: String(fieldValues.auth) } });
    pathValues.subscriptionId = subscription.id;
  }
  if (needs('receiptId')) {
    // A deletion receipt of the fixture's own (deleting a kind it holds nothing of).
    pathValues.receiptId = (await owner.purge({ type: 'data-kind', kind: 'calendar' })).receipt.id;
  }
  if (needs('reportId')) {
    pathValues.reportId = (await phone.reportSpam({ number: String(fieldValues.claimedNumber) })).id;
  }
  if (needs('pendingSignupId')) {
    // An under-14 sign-up waiting for its guardian's code.
    const child = await signUp(apiAt(t, address), { birthYear: 2015, guardian: { email: uniqueEmail('guardian') }, email: uniqueEmail('child'), password: 'pw', kdf: TEST_KDF });
    pathValues.pendingSignupId = child.pending!.pendingSignupId;
    fieldValues.verificationId = child.pending!.verificationId;
  }
  return { accountId, email, sessionToken, deviceToken, pathValues, fieldValues };
}
