import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { toBase64Url } from '../../src/protocol/encoding.js';
import type { TestApp } from '../harness.js';
import { apiAt, freshAddress, type Member } from '../security/helpers.js';

// Shared by the diagnostics feature and attack tests: consent switches and a registered phone.

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Grants (or withdraws) an account consent through the consent API, as the user would. */
export async function setConsent(t: TestApp, m: Member, purpose: 'diagnostics' | 'experience', granted: boolean) {
  const res = await t.request('PUT', `/v1/account/consents/${purpose}`, { body: { granted }, headers: bearer(m.token) });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Registers a phone for the member; returns its id and an SDK client acting as it. */
export async function registerPhone(t: TestApp, m: Member, address = freshAddress()) {
  const { device, token } = await m.api.registerDevice({
    name: 'Pixel',
    model: 'Pixel 9',
    platform: 'android',
    identifierHash: toBase64Url(randomBytes(32)),
  });
  return { deviceId: device.id, token, api: apiAt(t, address, { deviceToken: token }) };
}

/** POST /v1/device/diagnostics with the phone's token, from the given address, body as given. */
export function postDeviceReport(t: TestApp, token: string, body: unknown, headers: Record<string, string> = {}) {
  return t.request('POST', '/v1/device/diagnostics', { body, headers: { ...bearer(token), ...headers } });
}

export const crash = (extra: Record<string, unknown> = {}) => ({
  kind: 'crash' as const,
  appVersion: '1.4.2',
  report: { error: 'NullPointerException', frames: [{ fn: 'onResume', line: 42 }], ...extra },
});

/** A 403 consent_required in the one error shape (with the purpose in its details). */
export async function expectConsentRequired(res: Response | Promise<Response>, purpose: 'diagnostics' | 'experience') {
  const answer = await res;
  const body = (await answer.json()) as { error: { code: string; message: string; requestId: string; details?: { purpose?: string } } };
  expect({ status: answer.status, code: body.error.code }).toEqual({ status: 403, code: 'consent_required' });
  expect(body.error.requestId).toBe(answer.headers.get('X-Request-Id'));
  expect(body.error.message).toContain(purpose);
  if (body.error.details) expect(body.error.details.purpose).toBe(purpose);
}
