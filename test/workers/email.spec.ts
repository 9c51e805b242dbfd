import { env } from 'cloudflare:test';
import { EmailMessage } from 'cloudflare:email';
import { describe, expect, it } from 'vitest';
import { createCloudflareEmailSender, type SendEmailBinding } from '../../src/adapters/email-cloudflare.js';
import { ConfigError } from '../../src/config.js';
import { createWorkerDeps } from '../../src/worker.js';
import { emailErrorOf, testEmailSenderContract, TO } from '../adapters/email-contract.js';

// EMAIL_PROVIDER=cloudflare on Miniflare's local send_email binding, inside workerd. The binding
// parses each message (From must match the envelope, a Message-ID must be present) and enforces
// its allow-list; what it stores goes to a file on the host, so delivery is checked by the binding's
// acceptance here and by parsing the same MIME with mailparser in test/adapters/email.test.ts.

const FROM = 'homing@homing.test';
const binding = (name: string) => env[name] as SendEmailBinding;

describe('Workers send_email sender', () => {
  testEmailSenderContract(() => ({
    sender: createCloudflareEmailSender({ binding: binding('EMAIL'), EmailMessage, from: FROM }),
    secrets: [],
  }));

  it('a binding restricted to one address delivers to it and refuses any other as rejected', async () => {
    const sender = createCloudflareEmailSender({ binding: binding('EMAIL_ONLY_ADA'), EmailMessage, from: FROM });
    expect((await sender.send({ to: TO, subject: 'ok ✓', text: 'allowed' })).id).toMatch(/.{8,}/);
    const error = await emailErrorOf(sender.send({ to: 'eve@evil.example', subject: 'no', text: 'refused' }));
    expect(error.failure).toBe('rejected');
    expect(error.message).not.toContain('eve@evil.example');
  });

  it('EMAIL_PROVIDER=cloudflare uses the EMAIL binding; without one the Worker refuses to start; log keeps the console sender', () => {
    expect(createWorkerDeps({ ...env, EMAIL_PROVIDER: 'cloudflare' } as never).email.name).toBe('cloudflare');
    const { EMAIL: _, ...withoutBinding } = env;
    expect(() => createWorkerDeps({ ...withoutBinding, EMAIL_PROVIDER: 'cloudflare' } as never)).toThrow(ConfigError);
    expect(createWorkerDeps(env as never).email.name).toBe('log');
  });
});
