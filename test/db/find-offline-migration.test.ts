import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMigrationDb } from './migrations.js';

// 0005 makes Lost Mode a state, gives commands an expiry and a lease, binds sessions to the phone
// they were opened on, and adds push subscriptions. A server holding data must come out of it
// with lost phones still lost and no command left that a phone of this version would refuse.

const TAG = '0005_find_offline';
const DAY = 86_400_000;

let m: ReturnType<typeof createMigrationDb>;
beforeEach(() => {
  m = createMigrationDb();
});
afterEach(() => m.close());

describe('migration 0005: Find Device offline', () => {
  it('keeps a recently locked phone in Lost Mode, and ends every open command signed in the old format', () => {
    m.migrateBefore(TAG);
    const now = Date.now();
    m.insertRow('accounts', { id: 'a' });
    for (const id of ['lost', 'old-lock', 'ringing']) m.insertRow('devices', { id, account_id: 'a', token_hash: `t-${id}`, identifier_hash: `i-${id}` });
    const command = (id: string, deviceId: string, type: string, status: string, createdAt: number) =>
      m.insertRow('commands', { account_id: 'a', id, device_id: deviceId, type, status, issued_at: createdAt, created_at: createdAt, counter: 1 });
    command('c1', 'lost', 'lock', 'succeeded', now - 2 * DAY);
    command('c2', 'old-lock', 'lock', 'succeeded', now - 40 * DAY);
    command('c3', 'ringing', 'ring', 'pending', now - 1000);
    command('c4', 'lost', 'locate', 'delivered', now - 500);
    m.insertRow('sessions', { id: 's1', account_id: 'a', token_hash: 'h1' });

    m.migrateAll();

    const lost = m.sqlite.prepare('SELECT id, lost_since FROM devices ORDER BY id').all();
    expect(lost).toEqual([
      { id: 'lost', lost_since: now - 2 * DAY },
      { id: 'old-lock', lost_since: null },
      { id: 'ringing', lost_since: null },
    ]);
    const commands = m.sqlite.prepare('SELECT id, status, expires_at, issued_at FROM commands ORDER BY id').all() as { id: string; status: string; expires_at: number; issued_at: number }[];
    expect(commands.map((c) => [c.id, c.status])).toEqual([
      ['c1', 'succeeded'],
      ['c2', 'succeeded'],
      ['c3', 'expired'],
      ['c4', 'expired'],
    ]);
    for (const c of commands) expect(c.expires_at).toBe(c.issued_at + 600_000);
    expect(m.sqlite.prepare("SELECT device_id FROM sessions WHERE id = 's1'").get()).toEqual({ device_id: null });
    expect(m.sqlite.pragma('foreign_key_check')).toEqual([]);
  });

  it('removing a device deletes the sessions and push subscriptions bound to it, in the same statement', () => {
    m.migrateAll();
    m.insertRow('accounts', { id: 'a' });
    m.insertRow('devices', { id: 'phone', account_id: 'a', token_hash: 't1', identifier_hash: 'i1' });
    m.insertRow('devices', { id: 'tablet', account_id: 'a', token_hash: 't2', identifier_hash: 'i2' });
    m.insertRow('sessions', { id: 'on-phone', account_id: 'a', token_hash: 'h1', device_id: 'phone' });
    m.insertRow('sessions', { id: 'on-tablet', account_id: 'a', token_hash: 'h2', device_id: 'tablet' });
    m.insertRow('sessions', { id: 'browser', account_id: 'a', token_hash: 'h3' });
    m.insertRow('push_subscriptions', { id: 'p1', account_id: 'a', device_id: 'phone', endpoint: 'https://push.example/1' });
    m.insertRow('push_subscriptions', { id: 'p2', account_id: 'a', session_id: 'browser', endpoint: 'https://push.example/2' });

    m.sqlite.prepare("DELETE FROM devices WHERE id = 'phone'").run();

    expect(m.sqlite.prepare('SELECT id FROM sessions ORDER BY id').all()).toEqual([{ id: 'browser' }, { id: 'on-tablet' }]);
    expect(m.sqlite.prepare('SELECT id FROM push_subscriptions').all()).toEqual([{ id: 'p2' }]);
  });
});
