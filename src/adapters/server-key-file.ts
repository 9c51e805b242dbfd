import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBase64Url, toBase64Url } from '../protocol/encoding.js';

/**
 * The embedded default for the server key: made once on first start and kept beside the
 * database, readable by the owner only. Production sets HOMING_SERVER_KEY instead. Losing this
 * key makes stored emails and phone numbers unreadable, so it is backed up with the database.
 */
export function loadOrCreateServerKey(dataDir: string, random: (n: number) => Uint8Array) {
  const path = join(dataDir, 'server.key');
  if (existsSync(path)) {
    const key = fromBase64Url(readFileSync(path, 'utf8').trim());
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64url key`);
    return { key, created: false, path };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = random(32);
  writeFileSync(path, `${toBase64Url(key)}\n`, { mode: 0o600, flag: 'wx' });
  return { key, created: true, path };
}
