import { randomBytes } from 'node:crypto';
import { logIn, signUp } from '../../src/client/account.js';
import { type ApiClient, createApiClient } from '../../src/client/api.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { fakeSealed, newId } from '../features/sync-helpers.js';
import { TEST_KDF, uniqueEmail } from '../harness.js';
import { recordSecret } from '../log-scan/capture.js';

// Simulated phones for tests and benchmarks that drive a real server process over HTTP with the
// SDK: accounts with a notes collection and registered devices with Find Device on. The crash
// test and the soak run share them. The server never opens what it stores, so payloads are
// random bytes where a phone would put ciphertext.

export interface SimulatedDevice {
  id: string;
  token: string;
}

/** What a phone keeps across server restarts: its tokens and ids. Clients are made per URL. */
export interface SimulatedAccount {
  accountId: string;
  sessionToken: string;
  collectionId: string;
  devices: SimulatedDevice[];
  /** The client address it sends as (X-Forwarded-For), when the server trusts that header. */
  address?: string;
}

/**
 * A fetch that sends every request from `address` (X-Forwarded-For), for servers started with
 * TRUST_PROXY_HEADER, so many simulated phones do not share one address's abuse limits.
 */
const fetchFrom =
  (address: string | undefined) =>
  (input: string, init: RequestInit): Promise<Response> =>
    fetch(input, address ? { ...init, headers: { ...(init.headers as Record<string, string>), 'X-Forwarded-For': address } } : init);

/** The SDK as the account's owner (bearer session). */
export const ownerClient = (url: string, account: SimulatedAccount): ApiClient =>
  createApiClient({ baseUrl: url, fetch: fetchFrom(account.address), sessionToken: account.sessionToken });

/** The SDK as one of its phones (device token). */
export const deviceClient = (url: string, account: SimulatedAccount, device: SimulatedDevice): ApiClient =>
  createApiClient({ baseUrl: url, fetch: fetchFrom(account.address), deviceToken: device.token });

/** Signs up and logs in an account, makes its notes collection, and registers `devices` phones with Find Device on. */
export async function enrollAccount(url: string, options: { devices: number; address?: string }): Promise<SimulatedAccount> {
  const email = uniqueEmail('fleet');
  const password = `pw-${toBase64Url(randomBytes(12))}`;
  recordSecret(password);
  const api = createApiClient({ baseUrl: url, fetch: fetchFrom(options.address) });
  await signUp(api, { birthYear: 1990, email, password, kdf: TEST_KDF });
  const { response } = await logIn(api, { email, password });
  const sessionToken = response.session.token!;
  recordSecret(sessionToken);
  const collectionId = newId();
  await api.createCollection({ id: collectionId, kind: 'notes', wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
  const devices: SimulatedDevice[] = [];
  for (let i = 0; i < options.devices; i++) {
    const registered = await api.registerDevice({
      name: `phone ${i + 1}`,
      model: 'Pixel',
      platform: 'android',
      identifierHash: toBase64Url(randomBytes(32)),
    });
    recordSecret(registered.token);
    await api.setFindEnabled(registered.device.id, true);
    devices.push({ id: registered.device.id, token: registered.token });
  }
  return { accountId: response.accountId, sessionToken, collectionId, devices, address: options.address };
}

/** A sealed location report as a phone would send it (random bytes of a real report's length). */
export const sealedReport = () => fakeSealed(180);

/** A new item in the account's collection, as the SDK sends it in a batch. */
export const newItemChange = (collectionId: string, blobId?: string) => ({
  op: 'create' as const,
  itemId: newId(),
  collectionId,
  wrappedKey: fakeSealed(),
  encryptedMetadata: fakeSealed(100),
  ...(blobId ? { blobId } : {}),
});
