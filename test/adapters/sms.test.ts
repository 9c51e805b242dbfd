import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../src/adapters/log.js';
import { cryptoRandom } from '../../src/adapters/random.js';
import { maskNumber } from '../../src/adapters/sms.js';
import { createConsoleSmsSender } from '../../src/adapters/sms-console.js';
import { createLogSmsSender } from '../../src/adapters/sms-log.js';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio-fake.js';
import { AUTH_TOKEN, FAKE_ACCOUNT, FROM, TO } from '../fakes/twilio-fixtures.js';
import { testSmsSenderContract } from './sms-contract.js';
import { messagesSent, TWILIO_SECRETS, twilioSenders } from './twilio-senders.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'homing-sms-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(twilioSenders)('$kind, to the local Twilio fake', ({ create }) => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake(FAKE_ACCOUNT);
  });
  afterAll(() => fake.close());

  testSmsSenderContract(() => {
    fake.requests.length = 0;
    const { sender } = create(fake.url, { authToken: AUTH_TOKEN, fromNumber: FROM });
    return { sender, delivered: () => messagesSent(fake), secrets: TWILIO_SECRETS };
  });
});

describe('log SMS sender (embedded default)', () => {
  let n = 0;
  testSmsSenderContract(() => {
    const lines: string[] = [];
    const sender = createLogSmsSender({ outboxPath: join(dir, `contract-${n++}.jsonl`), log: createJsonLogger('debug', (l) => lines.push(l)) });
    return { sender, delivered: () => sender.readOutbox().map(({ to, body }) => ({ to, body })), logged: () => lines, secrets: [] };
  });

  it('appends each SMS to a 0600 outbox, readable back, and logs only the masked number', async () => {
    const outboxPath = join(dir, 'data', 'sms-outbox.jsonl');
    const lines: string[] = [];
    const now = Date.UTC(2026, 2, 4, 5, 6, 7);
    const sender = createLogSmsSender({ outboxPath, log: createJsonLogger('debug', (l) => lines.push(l)), now: () => now });

    expect(sender.name).toBe('log');
    expect(sender.readOutbox()).toEqual([]);
    const first = await sender.send({ to: TO, body: 'Your code is 482913' });
    const second = await sender.send({ to: '+15005550001', body: 'two\nlines' });

    expect(first.id).toMatch(/^log_[A-Za-z0-9_-]{16}$/);
    expect(second.id).not.toBe(first.id);
    expect((await stat(outboxPath)).mode & 0o777).toBe(0o600);
    expect((await readFile(outboxPath, 'utf8')).split('\n')).toHaveLength(3); // two lines and the final newline
    expect(sender.readOutbox()).toEqual([
      { id: first.id, at: '2026-03-04T05:06:07.000Z', to: TO, body: 'Your code is 482913' },
      { id: second.id, at: '2026-03-04T05:06:07.000Z', to: '+15005550001', body: 'two\nlines' },
    ]);

    expect(lines).toHaveLength(2);
    const logged = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(logged).toMatchObject({ level: 'info', message: 'sms written to outbox', id: first.id, to: maskNumber(TO), outbox: outboxPath });
    for (const line of lines) {
      expect(line).not.toContain('482913');
      expect(line).not.toContain('lines');
      expect(line).not.toContain(TO);
      expect(line).not.toContain('+15005550001');
    }
  });

  it('a second sender on the same file appends rather than overwrites', async () => {
    const outboxPath = join(dir, 'shared-outbox.jsonl');
    const log = createJsonLogger('silent');
    await createLogSmsSender({ outboxPath, log }).send({ to: TO, body: 'one' });
    const again = createLogSmsSender({ outboxPath, log });
    await again.send({ to: TO, body: 'two' });
    expect(again.readOutbox().map((e) => e.body)).toEqual(['one', 'two']);
  });
});

describe('console SMS sender (the log provider on Workers, which delivers nothing)', () => {
  testSmsSenderContract(() => {
    const lines: string[] = [];
    return { sender: createConsoleSmsSender(createJsonLogger('debug', (l) => lines.push(l)), cryptoRandom), logged: () => lines, secrets: [] };
  });

  it('logs one line per SMS, naming its id and the masked number', async () => {
    const lines: string[] = [];
    const { id } = await createConsoleSmsSender(createJsonLogger('debug', (l) => lines.push(l)), cryptoRandom).send({ to: TO, body: 'code 1' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: 'info', id, to: maskNumber(TO) })]);
  });
});
