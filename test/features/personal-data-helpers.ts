import { expect } from 'vitest';
import type { TestApp } from '../harness.js';

/** The six-digit code in a message (fails the test when there is none). */
export function codeIn(text: string) {
  const match = /\b(\d{6})\b/.exec(text);
  expect(match, `no code in: ${text}`).not.toBeNull();
  return match![1]!;
}

/** The e-mail the outbox holds for an address, newest last. */
export const mailTo = (t: TestApp, to: string) => t.emailOutbox().filter((m) => m.to === to);

/** The actions of the account's audit log, read through the API. */
export async function auditActions(t: TestApp, token: string) {
  const res = await t.request('GET', '/v1/account/audit', { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { entries: { action: string; detail?: string | null }[] };
  return body.entries.map((e) => e.action);
}
