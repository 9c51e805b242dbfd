import { createHash, randomBytes } from 'node:crypto';
import { logIn, signUp } from '../../src/client/account.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';

// The server never opens what it stores, so server-side tests can use random bytes where the
// SDK would put ciphertext. The SDK's own tests prove the real formats.
export const fakeSealed = (bytes = 72) => toBase64Url(randomBytes(bytes));
export const newId = () => toBase64Url(randomBytes(16));
export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Signs up and logs in a fresh account; returns raw-request helpers carrying its session. */
export async function newAccount(t: TestApp) {
  const email = uniqueEmail();
  const api = t.api();
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const { response } = await logIn(api, { email, password: 'pw' });
  const token = response.session.token!;
  const auth = { Authorization: `Bearer ${token}` };
  const call = (method: string, path: string, body?: unknown) => t.request(method, path, { body, headers: auth });
  const json = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    return { status: res.status, body: (await res.json()) as any };
  };
  const uploadBlob = (bytes: Uint8Array, sha = sha256Hex(bytes), headers: Record<string, string> = {}) =>
    t.app.request(`http://localhost:8787/v1/blobs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length), 'X-Homing-SHA256': sha, ...headers },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
  const createCollection = async (kind = 'notes') => {
    const id = newId();
    const res = await json('POST', '/v1/sync/collections', { id, kind, wrappedKey: fakeSealed(), encryptedMetadata: fakeSealed(40) });
    if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    return id;
  };
  const create = (collectionId: string, extra: Record<string, unknown> = {}) => ({
    op: 'create' as const,
    itemId: newId(),
    collectionId,
    wrappedKey: fakeSealed(),
    encryptedMetadata: fakeSealed(100),
    ...extra,
  });
  return { accountId: response.accountId, token, auth, call, json, uploadBlob, createCollection, create };
}

export type Account = Awaited<ReturnType<typeof newAccount>>;
