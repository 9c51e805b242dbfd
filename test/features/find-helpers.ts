import { randomBytes } from 'node:crypto';
import { logIn, signUp } from '../../src/client/account.js';
import { type CommandType, signCommand } from '../../src/client/crypto/commands.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { type LocationFix, sealLocation } from '../../src/client/crypto/location.js';
import { TEST_KDF, type TestApp, uniqueEmail } from '../harness.js';

/** An owner logged in (keys unlocked) with one registered device, and raw helpers for both sides. */
export async function owner(t: TestApp, options: { findEnabled?: boolean } = {}) {
  const email = uniqueEmail('owner');
  const api = t.api();
  await signUp(api, { birthYear: 1990, email, password: 'pw', kdf: TEST_KDF });
  const { response, keys } = await logIn(api, { email, password: 'pw' });
  const session = { Authorization: `Bearer ${response.session.token}` };
  const register = async (name: string) => {
    const res = await t.request('POST', '/v1/devices', {
      headers: session,
      body: { name, model: 'Pixel', platform: 'android', identifierHash: toBase64Url(randomBytes(32)) },
    });
    const body = await res.json();
    return { id: body.device.id as string, auth: { Authorization: `Bearer ${body.token}` } };
  };
  const device = await register('phone');
  const asOwner = async (method: string, path: string, body?: unknown) => {
    const res = await t.request(method, path, { headers: session, body });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  const asDevice = async (auth: Record<string, string>, method: string, path: string, body?: unknown) => {
    const res = await t.request(method, path, { headers: auth, body });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  if (options.findEnabled !== false) await asOwner('PUT', `/v1/devices/${device.id}/find`, { enabled: true });

  let counter = 0;
  const sign = (deviceId: string, type: CommandType, args: object = {}, overrides: { counter?: number; issuedAt?: number; expiresAt?: number } = {}) =>
    signCommand(
      { deviceId, type, args, issuedAt: overrides.issuedAt ?? t.clock.now(), expiresAt: overrides.expiresAt, counter: overrides.counter ?? ++counter },
      keys.ed25519Seed,
    );
  const fix = (lat: number, lon: number): LocationFix => ({ lat, lon, accuracy: 12, source: 'simulated', battery: 80, measuredAt: t.clock.now() });
  const sealed = (lat: number, lon: number) => sealLocation(fix(lat, lon), keys.x25519PublicKey);
  return { accountId: response.accountId, email, keys, session, device, register, asOwner, asDevice, sign, sealed };
}

export type Owner = Awaited<ReturnType<typeof owner>>;
