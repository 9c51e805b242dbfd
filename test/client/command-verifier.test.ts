// The device's side of Find Device commands (docs/CRYPTO.md §10, "Device-side verification"):
// what a phone carries out, refuses, or recognises as already done, whatever the server hands it.
import sodium from 'libsodium-wrappers-sumo';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CommandType,
  type ReceivedCommand,
  commandMessage,
  createCommandVerifier,
  MAX_COMMAND_LIFETIME_MS,
  openLockArgs,
  RECENT_COUNTERS_KEPT,
  sealLockArgs,
  signCommand,
} from '../../src/client/crypto/commands.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/protocol/encoding.js';
import { ed25519PublicKeyFromSeed, signDetached } from '../../src/protocol/signing.js';

beforeAll(async () => {
  await sodium.ready;
});

const seq = (start: number, n = 32) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

describe('createCommandVerifier', () => {
  const accountSeed = seq(0x70);
  const accountPublicKey = ed25519PublicKeyFromSeed(accountSeed);
  const NOW = 1_767_225_600_000;
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;

  const verifierFor = (deviceId: string, options: { lastCounter?: number; recentCounters?: number[]; now?: number } = {}) =>
    createCommandVerifier({
      deviceId,
      ed25519PublicKey: accountPublicKey,
      now: () => options.now ?? NOW,
      ...(options.lastCounter === undefined ? {} : { lastCounter: options.lastCounter }),
      ...(options.recentCounters === undefined ? {} : { recentCounters: options.recentCounters }),
    });

  const command = (
    deviceId: string,
    counter: number,
    options: { type?: CommandType; args?: object; issuedAt?: number; expiresAt?: number; seed?: Uint8Array } = {},
  ): ReceivedCommand => ({
    deviceId,
    ...signCommand(
      {
        deviceId,
        type: options.type ?? 'ring',
        args: options.args ?? {},
        issuedAt: options.issuedAt ?? NOW,
        expiresAt: options.expiresAt,
        counter,
      },
      options.seed ?? accountSeed,
    ),
  });

  it('accepts a fresh command, returns its parsed args and raises lastCounter', () => {
    const verifier = verifierFor('dev_a');
    expect(verifier.lastCounter()).toBe(0);
    const verdict = verifier.verify(command('dev_a', 5, { type: 'lock', args: { sealed: 'xyz' } }));
    expect(verdict).toEqual({ ok: true, type: 'lock', args: { sealed: 'xyz' }, counter: 5, expiresAt: NOW + 7 * DAY });
    expect(verifier.lastCounter()).toBe(5);
    expect(verifier.recentCounters()).toEqual([5]);
  });

  it('ignores the extra fields of the server Command object', () => {
    const verifier = verifierFor('dev_a');
    const fromServer = { ...command('dev_a', 1), id: 'cmd_1', status: 'pending', result: null, createdAt: 1, deliveries: 2 };
    expect(verifier.verify(fromServer).ok).toBe(true);
  });

  it('a command that reaches the phone two hours late is still carried out, and one six days late too', () => {
    expect(verifierFor('dev_a', { now: NOW + 2 * HOUR }).verify(command('dev_a', 1)).ok).toBe(true);
    expect(verifierFor('dev_a', { now: NOW + 6 * DAY }).verify(command('dev_a', 1)).ok).toBe(true);
    // A phone whose clock runs behind the owner's is no reason to refuse either.
    expect(verifierFor('dev_a', { now: NOW - 2 * HOUR }).verify(command('dev_a', 1)).ok).toBe(true);
  });

  it('a command past its signed expiry is refused as expired, at the very millisecond, without burning the counter', () => {
    const expiresAt = NOW + HOUR;
    expect(verifierFor('dev_a', { now: expiresAt - 1 }).verify(command('dev_a', 1, { expiresAt })).ok).toBe(true);
    expect(verifierFor('dev_a', { now: expiresAt }).verify(command('dev_a', 1, { expiresAt }))).toEqual({ ok: false, reason: 'expired' });

    let clock = NOW + 8 * DAY;
    const verifier = createCommandVerifier({ deviceId: 'dev_a', ed25519PublicKey: accountPublicKey, now: () => clock });
    expect(verifier.verify(command('dev_a', 7))).toEqual({ ok: false, reason: 'expired' });
    expect(verifier.lastCounter()).toBe(0);
    clock = NOW;
    expect(verifier.verify(command('dev_a', 7)).ok).toBe(true);
  });

  it('refuses a command in the v1 format (no expiresAt) as old-format, even with a valid v1 signature', () => {
    const fields = { deviceId: 'dev_a', type: 'ring', issuedAt: NOW, counter: 3, args: '{}' };
    const v1 = utf8(`homing/v1/command\ndev_a\nring\n${NOW}\n3\n{}`);
    const old = { ...fields, signature: toBase64Url(signDetached(accountSeed, v1)) };
    const verifier = verifierFor('dev_a');
    expect(verifier.verify(old)).toEqual({ ok: false, reason: 'old-format' });
    expect(verifier.lastCounter()).toBe(0);
  });

  it('refuses a replay with the same counter, and a lower counter', () => {
    const verifier = verifierFor('dev_a', { recentCounters: [] });
    const first = command('dev_a', 10);
    expect(verifier.verify(first).ok).toBe(true);
    expect(verifier.verify(command('dev_a', 9))).toEqual({ ok: false, reason: 'replayed' });
    expect(verifier.verify(command('dev_a', 11)).ok).toBe(true);
    expect(verifier.lastCounter()).toBe(11);
  });

  it('a redelivered command it already carried out is recognised as already-done, never run twice', () => {
    const verifier = verifierFor('dev_a');
    const ring = command('dev_a', 10);
    expect(verifier.verify(ring).ok).toBe(true);
    expect(verifier.verify(ring)).toEqual({ ok: false, reason: 'already-done' });
    // Even once it has expired: the answer is still "done", so the phone can acknowledge it.
    const late = createCommandVerifier({ deviceId: 'dev_a', ed25519PublicKey: accountPublicKey, lastCounter: 10, recentCounters: [10], now: () => NOW + 30 * DAY });
    expect(late.verify(ring)).toEqual({ ok: false, reason: 'already-done' });
    // A lower counter it never accepted is a replay, not something done.
    expect(verifier.verify(command('dev_a', 9))).toEqual({ ok: false, reason: 'replayed' });
  });

  it('remembers a bounded number of recent counters, and starts again from persisted ones', () => {
    const verifier = verifierFor('dev_a');
    for (let c = 1; c <= RECENT_COUNTERS_KEPT + 5; c++) expect(verifier.verify(command('dev_a', c)).ok).toBe(true);
    const recent = verifier.recentCounters();
    expect(recent).toHaveLength(RECENT_COUNTERS_KEPT);
    expect(recent[0]).toBe(6);
    expect(verifier.verify(command('dev_a', 3))).toEqual({ ok: false, reason: 'replayed' });

    const restarted = verifierFor('dev_a', { lastCounter: verifier.lastCounter(), recentCounters: recent });
    expect(restarted.verify(command('dev_a', RECENT_COUNTERS_KEPT + 5))).toEqual({ ok: false, reason: 'already-done' });
    expect(restarted.verify(command('dev_a', 2))).toEqual({ ok: false, reason: 'replayed' });
    expect(restarted.verify(command('dev_a', RECENT_COUNTERS_KEPT + 6)).ok).toBe(true);
  });

  it('starts from a persisted lastCounter', () => {
    const verifier = verifierFor('dev_a', { lastCounter: 100 });
    expect(verifier.verify(command('dev_a', 100))).toEqual({ ok: false, reason: 'replayed' });
    expect(verifier.verify(command('dev_a', 101)).ok).toBe(true);
  });

  it('refuses a command for another device', () => {
    const verifier = verifierFor('dev_b');
    expect(verifier.verify(command('dev_a', 1))).toEqual({ ok: false, reason: 'other-device' });
    expect(verifier.lastCounter()).toBe(0);
  });

  it('refuses a command signed for device A re-targeted at device B', () => {
    const verifierB = verifierFor('dev_b');
    const forA = command('dev_a', 1);
    expect(verifierB.verify({ ...forA, deviceId: 'dev_b' })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifierB.verify(forA)).toEqual({ ok: false, reason: 'other-device' });
    // The very same command is fine for A.
    expect(verifierFor('dev_a').verify(forA).ok).toBe(true);
  });

  it('refuses a command signed by another key', () => {
    const verifier = verifierFor('dev_a');
    expect(verifier.verify(command('dev_a', 1, { seed: seq(0x90) }))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifier.lastCounter()).toBe(0);
  });

  it('refuses tampered args, type, issuedAt, counter and a prolonged or shortened expiry', () => {
    const verifier = verifierFor('dev_a');
    const good = command('dev_a', 50, { type: 'ring', args: { sealed: 'abc' } });
    const tampered: ReceivedCommand[] = [
      { ...good, args: '{"sealed":"abd"}' },
      { ...good, args: '{"sealed": "abc"}' },
      { ...good, type: 'wipe' },
      { ...good, issuedAt: good.issuedAt + 1 },
      { ...good, counter: good.counter + 1 },
      { ...good, expiresAt: good.expiresAt! + DAY },
      { ...good, expiresAt: good.expiresAt! - 1 },
    ];
    for (const bad of tampered) {
      expect(verifier.verify(bad), JSON.stringify(bad)).toEqual({ ok: false, reason: 'bad-signature' });
    }
    const signature = fromBase64Url(good.signature);
    signature[10]! ^= 1;
    expect(verifier.verify({ ...good, signature: toBase64Url(signature) })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifier.lastCounter()).toBe(0);
    expect(verifier.verify(good).ok).toBe(true);
  });

  it('refuses malformed commands', () => {
    const verifier = verifierFor('dev_a');
    const good = command('dev_a', 1);
    // Correctly signed, but args is not a JSON object.
    const signedArgs = (args: string) => ({
      ...good,
      args,
      signature: toBase64Url(signDetached(accountSeed, commandMessage({ ...good, expiresAt: good.expiresAt!, type: 'ring', args }))),
    });
    const malformed: unknown[] = [
      null,
      { ...good, signature: 'not base64url!' },
      { ...good, signature: good.signature.slice(0, 20) },
      { ...good, type: 'explode' },
      { ...good, counter: 0 },
      { ...good, counter: '1' },
      { ...good, issuedAt: 1.5 },
      { ...good, expiresAt: '1' },
      { ...good, expiresAt: good.issuedAt },
      { ...good, expiresAt: good.issuedAt + MAX_COMMAND_LIFETIME_MS + 1 },
      { ...good, args: { sealed: 'x' } },
      { ...good, deviceId: 42 },
      signedArgs('not json'),
      signedArgs('[1,2]'),
      signedArgs('null'),
    ];
    for (const bad of malformed) {
      expect(verifier.verify(bad as ReceivedCommand), JSON.stringify(bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(verifier.lastCounter()).toBe(0);
    expect(verifier.verify(signedArgs('{"a":1}'))).toEqual({ ok: true, type: 'ring', args: { a: 1 }, counter: 1, expiresAt: good.expiresAt });
  });

  it('a lock command end to end: owner seals and signs, device verifies and opens', () => {
    const account = sodium.crypto_box_keypair();
    const args = sealLockArgs({ message: 'Reward if found', callbackNumber: '+1 555 0100' }, account.publicKey);
    const signed = signCommand({ deviceId: 'dev_a', type: 'lock', args, issuedAt: NOW, counter: NOW }, accountSeed);
    const sent = { deviceId: 'dev_a', ...signed };
    const verdict = verifierFor('dev_a').verify(sent);
    if (!verdict.ok) throw new Error(`rejected: ${verdict.reason}`);
    expect(openLockArgs(verdict.args, account.publicKey, account.privateKey)).toEqual({
      message: 'Reward if found',
      callbackNumber: '+1 555 0100',
    });
  });

  it('refuses bad construction parameters', () => {
    expect(() => createCommandVerifier({ deviceId: 'a', ed25519PublicKey: new Uint8Array(31) })).toThrow(/32 bytes/);
    expect(() => createCommandVerifier({ deviceId: '', ed25519PublicKey: accountPublicKey })).toThrow(/deviceId/);
    expect(() => createCommandVerifier({ deviceId: 'a', ed25519PublicKey: accountPublicKey, lastCounter: -1 })).toThrow(
      /lastCounter/,
    );
    expect(() => createCommandVerifier({ deviceId: 'a', ed25519PublicKey: accountPublicKey, lastCounter: 5, recentCounters: [6] })).toThrow(
      /recentCounters/,
    );
  });
});
