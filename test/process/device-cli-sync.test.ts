import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn } from '../../src/client/account.js';
import { createApiClient } from '../../src/client/api.js';
import { uploadEncrypted } from '../../src/client/sync/blob-transfer.js';
import { createSyncEngine, emptyReplica } from '../../src/client/sync/engine.js';
import { toBase64Url } from '../../src/protocol/encoding.js';
import { run, startTestServer } from './spawn.js';

let dir: string;
let url: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ dir, url, stop } = await startTestServer('cli-sync'));
});

afterAll(() => stop());

const cli = (args: string[], state: string, password = 'a long password') =>
  run('src/client/cli/main.ts', {
    cwd: dir,
    args: [...args, '--server', url, '--state', join(dir, state)],
    env: { HOMING_PASSWORD: password },
  });

const FILES: Record<string, Buffer> = {
  'contacts/ada.vcf': Buffer.from('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada Lovelace\r\nTEL:+447700900123\r\nEND:VCARD\r\n'),
  'notes/todo.md': Buffer.from('# Todo\n\n- back up the phone\n- ünïcödé ✓\n'),
  'photos/cat.jpg': randomBytes(3 * 1024 * 1024 + 17),
  'empty.txt': Buffer.alloc(0),
};

function writeTree(root: string, files: Record<string, Buffer>) {
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), bytes);
  }
}

describe('device CLI: backup on one device, restore on another', () => {
  it('restores a folder of contacts, notes and photos byte-identical, then only what changed', async () => {
    const source = join(dir, 'phone-files');
    const target = join(dir, 'laptop-files');
    writeTree(source, FILES);

    expect((await cli(['signup', '--email', 'sync@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192'], 'phone.json')).code).toBe(0);
    expect((await cli(['login', '--email', 'sync@example.org'], 'phone.json')).code).toBe(0);
    const backup = await cli(['backup', '--dir', source], 'phone.json');
    expect(backup.code, backup.output).toBe(0);
    expect(backup.output).toContain('4 uploaded, 0 unchanged');
    expect(backup.output).toMatch(/backup 3\.0 MiB of 3\.0 MiB \(100%\), 4 files/);

    expect((await cli(['login', '--email', 'sync@example.org'], 'laptop.json')).code).toBe(0);
    const restore = await cli(['restore', '--dir', target], 'laptop.json');
    expect(restore.code, restore.output).toBe(0);
    expect(restore.output).toContain('4 written');
    for (const [name, bytes] of Object.entries(FILES)) expect(readFileSync(join(target, name)).equals(bytes), name).toBe(true);

    // Nothing on disk on the server side holds the plaintext.
    const serverFiles = JSON.stringify(readFileSync(join(dir, 'data', 'homing.db')).toString('latin1'));
    expect(serverFiles).not.toContain('Ada Lovelace');

    writeFileSync(join(source, 'notes/todo.md'), '# Todo\n\n- done\n');
    expect((await cli(['backup', '--dir', source], 'phone.json')).output).toContain('1 uploaded, 3 unchanged');
    const again = await cli(['restore', '--dir', target], 'laptop.json');
    expect(again.output).toContain('1 written, 3 already up to date');
    expect(readFileSync(join(target, 'notes/todo.md'), 'utf8')).toBe('# Todo\n\n- done\n');
  });

  it('keeps both versions when two devices change the same file', async () => {
    const phone = join(dir, 'phone-files');
    const laptop = join(dir, 'laptop-files');
    writeFileSync(join(laptop, 'notes/todo.md'), 'laptop edit\n');
    expect((await cli(['backup', '--dir', laptop], 'laptop.json')).output).toContain('1 uploaded, 3 unchanged');

    writeFileSync(join(phone, 'notes/todo.md'), 'phone edit\n');
    const clash = await cli(['backup', '--dir', phone], 'phone.json');
    expect(clash.output).toContain('1 changed on another device too, uploaded beside it as a conflict copy');

    const fresh = join(dir, 'third-device');
    expect((await cli(['restore', '--dir', fresh], 'laptop.json')).code).toBe(0);
    const notes = readdirSync(join(fresh, 'notes')).sort();
    expect(notes).toEqual([expect.stringMatching(/^todo \(conflict \d{4}-\d{2}-\d{2}\)\.md$/), 'todo.md']);
    expect(readFileSync(join(fresh, 'notes/todo.md'), 'utf8')).toBe('laptop edit\n');
    expect(readFileSync(join(fresh, 'notes', notes[0]!), 'utf8')).toBe('phone edit\n');

    // A device that did not change a file does not push its older copy over a newer one.
    const untouched = await cli(['backup', '--dir', fresh], 'laptop.json');
    expect(untouched.output).toContain('0 uploaded, 5 unchanged');
  });

  it('says so plainly when the password is wrong', async () => {
    const result = await cli(['restore', '--dir', join(dir, 'x')], 'phone.json', 'not the password');
    expect(result.code).toBe(1);
    expect(result.output).toContain('error: wrong password: the account keys did not open');
  });
});

describe('device CLI: restore goes on past items it cannot restore', () => {
  /** Another client of the account (a phone app, say), writing file items with only the fields docs/CRYPTO.md §8 requires. */
  async function otherClientSaves(email: string, files: Record<string, Buffer>) {
    const api = createApiClient({ baseUrl: url });
    const { response, keys } = await logIn(api, { email, password: 'a long password' });
    const engine = createSyncEngine({ api, accountId: response.accountId, masterKey: keys.masterKey, replica: emptyReplica() });
    for (const [name, bytes] of Object.entries(files)) {
      const blob = await uploadEncrypted(api, () => new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(bytes)), c.close()) }), bytes.length);
      await engine.saveItem({ kind: 'files', meta: { name, blobKey: toBase64Url(blob.blobKey), chunkSize: blob.chunkSize }, blobId: blob.blobId });
    }
  }

  it('skips unsafe names, restores minimal-metadata items and every good one, lists what it skipped, exits 1', async () => {
    const email = 'restore@example.org';
    expect((await cli(['signup', '--email', email, '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192'], 'tablet.json')).code).toBe(0);
    expect((await cli(['login', '--email', email], 'tablet.json')).code).toBe(0);
    const absolute = join(dir, 'absolute.txt');
    const minimal = Buffer.from('written by another client, without size or sha256\n');
    // Synced first, so a restore that stopped at the first failure would never reach the good ones.
    await otherClientSaves(email, {
      '../escape.txt': Buffer.from('outside the folder'),
      [absolute]: Buffer.from('an absolute path'),
      'bad\u0000name.txt': Buffer.from('a NUL in the name'),
      'from-tablet/minimal.txt': minimal,
    });
    const good = join(dir, 'tablet-files');
    writeTree(good, { 'notes/a.md': Buffer.from('# A\n'), 'photos/b.jpg': randomBytes(200_000) });
    expect((await cli(['backup', '--dir', good], 'tablet.json')).output).toContain('2 uploaded');

    expect((await cli(['login', '--email', email], 'desk.json')).code).toBe(0);
    const target = join(dir, 'desk-files');
    const restore = await cli(['restore', '--dir', target], 'desk.json');
    expect(restore.code, restore.output).toBe(1);
    expect(restore.output).toContain(`restored into ${target}: 3 written, 0 already up to date, 3 skipped`);
    expect(restore.output).toContain('skipped "../escape.txt": unsafe path');
    expect(restore.output).toContain(`skipped ${JSON.stringify(absolute)}: unsafe path`);
    expect(restore.output).toContain('skipped "bad\\u0000name.txt": unsafe path');
    expect(restore.output).toContain('error: 3 items could not be restored (listed above)');

    expect(readFileSync(join(target, 'from-tablet/minimal.txt')).equals(minimal)).toBe(true);
    for (const name of ['notes/a.md', 'photos/b.jpg']) expect(readFileSync(join(target, name)).equals(readFileSync(join(good, name))), name).toBe(true);
    expect(existsSync(join(dir, 'escape.txt'))).toBe(false);
    expect(existsSync(absolute)).toBe(false);
    expect(readdirSync(target).sort()).toEqual(['from-tablet', 'notes', 'photos']);
  });
});
