import { describe, expect, it } from 'vitest';
import { MIN_PASSWORD_LENGTH } from '../../src/client/account.js';
import { mayBeUnder14 } from '../../src/protocol/age.js';
import { guardianContact } from '../../src/protocol/api/accounts.js';
import {
  deviceRemovalText,
  needsGuardian,
  newPasswordProblem,
  parseBirthYear,
  parseGuardianContact,
  recoveryKeyFile,
  sessionFacts,
} from '../../src/web/account-format.js';

// The account screens' pure helpers (src/web/account-format.ts), in Node.

const NOW = Date.UTC(2026, 5, 1, 12);

describe('account screens: input checks', () => {
  it('a password shorter than the SDK minimum, or a confirmation that differs, is named with the field at fault', () => {
    expect(newPasswordProblem('x'.repeat(MIN_PASSWORD_LENGTH - 1), 'x'.repeat(MIN_PASSWORD_LENGTH - 1))).toMatchObject({ field: 'password' });
    expect(newPasswordProblem('long enough', 'long enougH')).toMatchObject({ field: 'confirmation', problem: expect.stringContaining('do not match') });
    expect(newPasswordProblem('x'.repeat(MIN_PASSWORD_LENGTH), 'x'.repeat(MIN_PASSWORD_LENGTH))).toBeNull();
  });

  it('a birth year in the future, before 1900, or not four digits is refused; the guardian rule is the server’s own', () => {
    expect(parseBirthYear(' 1990 ', NOW)).toEqual({ year: 1990 });
    for (const text of ['2027', '1899', '90', '19x0', '']) expect(parseBirthYear(text, NOW)).toHaveProperty('problem');
    for (const year of [2010, 2011, 2012, 2013, 2026, 1950]) expect(needsGuardian(year, NOW)).toBe(mayBeUnder14(year, NOW));
    expect(needsGuardian(2012, NOW)).toBe(true);
    expect(needsGuardian(2011, NOW)).toBe(false);
  });

  it("a guardian's contact is an e-mail or an E.164 number the server's own schema accepts; anything else is refused", () => {
    const email = parseGuardianContact(' parent@example.org ');
    expect(email).toEqual({ contact: { email: 'parent@example.org' } });
    const phone = parseGuardianContact('+49 (151) 234-5678');
    expect(phone).toEqual({ contact: { phoneNumber: '+491512345678' } });
    for (const parsed of [email, phone]) expect(guardianContact.safeParse('contact' in parsed ? parsed.contact : null).success).toBe(true);
    for (const text of ['0151 2345678', 'parent@', 'someone', '+0123456789']) expect(parseGuardianContact(text)).toHaveProperty('problem');
  });
});

describe('account screens: text', () => {
  it('the recovery key file names the account and server and holds the key itself', () => {
    const key = 'aaaaaaaa-bbbbbbbb-cccccccc-dddddddd-eeeeeeee-ffffffff-00000000-11111111';
    const text = recoveryKeyFile({ email: 'ada@example.org', server: 'https://homing.example', recoveryKey: key, createdAt: NOW });
    expect(text.split('\n')).toContain(key);
    expect(text).toContain('Account: ada@example.org');
    expect(text).toContain('Server: https://homing.example');
    expect(text).toContain('2026-06-01T12:00:00.000Z');
  });

  it('a session reads as its label, its kind (and phone), and when it was used; an unnamed one says so', () => {
    const base = { id: 's1', kind: 'cookie' as const, label: 'Find Device web page', createdAt: NOW - 86_400_000, lastUsedAt: NOW - 5 * 60_000, expiresAt: NOW + 1e9, deviceId: null, current: true };
    expect(sessionFacts(base, NOW)).toMatchObject({ title: 'Find Device web page', kind: 'browser', times: expect.stringMatching(/last used 5 min ago$/) });
    expect(sessionFacts({ ...base, kind: 'bearer', label: null, deviceId: 'd1' }, NOW, 'Pixel')).toMatchObject({ title: 'Unnamed session', kind: 'app or device CLI on Pixel' });
  });

  it('removing a device spells out everything the server deletes with it, and what it keeps', () => {
    const text = deviceRemovalText("Ada's Pixel");
    for (const part of ["Ada's Pixel", 'locations', 'commands', 'SIM events', 'push subscription', 'diagnostics', 'Find Device setting', 'messaging', 'messages still waiting for it', 'spam reports', 'every session opened on it', 'can no longer sync', 'be found', 'synced data', 'stays on the server']) {
      expect(text).toContain(part);
    }
  });
});
