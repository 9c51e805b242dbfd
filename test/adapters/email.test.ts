import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskEmail } from '../../src/adapters/email.js';
import { mimeMessageOf } from '../../src/adapters/email-cloudflare.js';
import { createConsoleEmailSender } from '../../src/adapters/email-console.js';
import { createLogEmailSender } from '../../src/adapters/email-log.js';
import { createSmtpEmailSender } from '../../src/adapters/email-smtp.js';
import { createJsonLogger } from '../../src/adapters/log.js';
import { cryptoRandom } from '../../src/adapters/random.js';
import { emailErrorOf, testEmailSenderContract, TO } from './email-contract.js';
import { startSmtpServer } from './smtp-server.js';

const FROM = 'homing@homing.test';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'homing-email-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SMTP sender, to a real SMTP server (smtp-server)', () => {
  let server: Awaited<ReturnType<typeof startSmtpServer>>;
  beforeAll(async () => {
    server = await startSmtpServer();
  });
  afterAll(() => server.close());

  testEmailSenderContract(() => {
    server.received.length = 0;
    const sender = createSmtpEmailSender({ url: server.url, from: FROM });
    return {
      sender,
      delivered: () => server.received.map((m) => ({ to: m.to.join(','), subject: m.subject, text: m.text.replace(/\n$/, '') })),
      secrets: ['smtp-test-password'],
    };
  });

  it('the envelope is From the configured address and To the one recipient only', async () => {
    server.received.length = 0;
    await createSmtpEmailSender({ url: server.url, from: FROM }).send({ to: TO, subject: 's', text: 't' });
    expect(server.received.map((m) => ({ from: m.from, to: m.to }))).toEqual([{ from: FROM, to: [TO] }]);
  });

  it('wrong credentials fail as auth_failed, naming neither the password nor the recipient', async () => {
    const url = server.url.replace('smtp-test-password', 'wrong-password');
    const error = await emailErrorOf(createSmtpEmailSender({ url, from: FROM }).send({ to: TO, subject: 's', text: 'code 1' }));
    expect(error.failure).toBe('auth_failed');
    const shown = inspectAll(error);
    for (const secret of ['wrong-password', 'smtp-test-password', TO]) expect(shown).not.toContain(secret);
  });
});

describe('SMTP sender, when the mail server is not there or misbehaves', () => {
  it('nothing listening on the port: unavailable at once', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await emailErrorOf(
      createSmtpEmailSender({ url: `smtp://u:p@127.0.0.1:${port}`, from: FROM, timeoutMs: 2_000 }).send({ to: TO, subject: 's', text: 't' }),
    );
    expect(error.failure).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a server that accepts the connection and never greets: unavailable within the timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const error = await emailErrorOf(
        createSmtpEmailSender({ url: `smtp://u:p@127.0.0.1:${portOf(silent)}`, from: FROM, timeoutMs: 500 }).send({ to: TO, subject: 's', text: 't' }),
      );
      expect(error.failure).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });

  it('a recipient the server refuses (550) fails as rejected, and the error does not repeat the address', async () => {
    const refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected`), { responseCode: 550 }));
      },
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (refusing.server.address() as AddressInfo).port;
      const error = await emailErrorOf(createSmtpEmailSender({ url: `smtp://127.0.0.1:${port}`, from: FROM }).send({ to: TO, subject: 's', text: 't' }));
      expect(error.failure).toBe('rejected');
      expect(inspectAll(error)).not.toContain(TO);
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });

  it('smtp:// to a host other than loopback insists on STARTTLS: a server without it gets neither credentials nor mail', async () => {
    // 127.0.0.2 reaches this machine, but is not one of the loopback names the sender trusts in clear.
    const seen: string[] = [];
    const plain = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, callback) {
        seen.push(`auth ${auth.username}`);
        callback(null, { user: auth.username });
      },
      onData(stream, _session, callback) {
        seen.push('data');
        stream.resume().on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.2', resolve));
    try {
      const port = (plain.server.address() as AddressInfo).port;
      const url = `smtp://homing:secret-pass@127.0.0.2:${port}`;
      const error = await emailErrorOf(createSmtpEmailSender({ url, from: FROM, timeoutMs: 2_000 }).send({ to: TO, subject: 's', text: 'code 2' }));
      expect(error.failure).toBe('unavailable');
      expect(seen).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});

describe('log e-mail sender (the embedded default outbox)', () => {
  let n = 0;
  testEmailSenderContract(() => {
    const lines: string[] = [];
    const sender = createLogEmailSender({ outboxPath: join(dir, `contract-${n++}.jsonl`), log: createJsonLogger('debug', (l) => lines.push(l)) });
    return { sender, delivered: () => sender.readOutbox().map(({ to, subject, text }) => ({ to, subject, text })), logged: () => lines, secrets: [] };
  });

  it('appends each message to a 0600 outbox, readable back, and logs only the masked address', async () => {
    const outboxPath = join(dir, 'data', 'email-outbox.jsonl');
    const lines: string[] = [];
    const now = Date.UTC(2026, 2, 4, 5, 6, 7);
    const sender = createLogEmailSender({ outboxPath, log: createJsonLogger('debug', (l) => lines.push(l)), now: () => now });
    expect(sender.readOutbox()).toEqual([]);
    const first = await sender.send({ to: TO, subject: 'Code', text: 'Your code is 482913' });
    expect((await stat(outboxPath)).mode & 0o777).toBe(0o600);
    expect((await readFile(outboxPath, 'utf8')).split('\n')).toHaveLength(2);
    expect(sender.readOutbox()).toEqual([{ id: first.id, at: '2026-03-04T05:06:07.000Z', to: TO, subject: 'Code', text: 'Your code is 482913' }]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', id: first.id, to: maskEmail(TO) });
  });
});

describe('console e-mail sender (EMAIL_PROVIDER=log on Workers, which delivers nothing)', () => {
  testEmailSenderContract(() => {
    const lines: string[] = [];
    return { sender: createConsoleEmailSender(createJsonLogger('debug', (l) => lines.push(l)), cryptoRandom), logged: () => lines, secrets: [] };
  });
});

describe('the MIME message the Workers sender hands to the send_email binding', () => {
  it('parses back (mailparser) to the same sender, recipient, UTF-8 subject and body, with CRLF line ends', async () => {
    const message = { to: TO, subject: 'homing: votre code ✓ — 🔒', text: 'Code 482913.\nÄÖÜ ß 日本語 🔒\n'.repeat(20) };
    const { raw, messageId } = mimeMessageOf({ from: FROM, message });
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(messageId).toMatch(/^<.+@homing\.test>$/);
    const parsed = await simpleParser(raw);
    expect({ from: parsed.from?.value[0]?.address, to: addressesOf(parsed.to), subject: parsed.subject, text: parsed.text }).toEqual({
      from: FROM,
      to: [TO],
      subject: message.subject,
      text: message.text,
    });
    // The body is base64: no line of it can pass for a header or an SMTP dot.
    expect(raw).not.toContain('Code 482913');
  });
});

function addressesOf(to: unknown) {
  const list = Array.isArray(to) ? to : [to];
  return list.flatMap((a: { value: { address?: string }[] }) => a.value.map((v) => v.address));
}

function inspectAll(error: unknown) {
  return `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack} ${inspect(error, { depth: 20, showHidden: true })}`;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

async function freePort() {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = portOf(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
