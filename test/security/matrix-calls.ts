import { ERROR_CODES } from '../../src/protocol/errors.js';
import { TEST_ORIGIN, type TestApp } from '../harness.js';
import { freshAddress } from './helpers.js';
import { type Answer, PATH_PARAMETERS, type RequestSpec, type Sample, type Scope } from './matrix-operations.js';
import type { Attacker, Ids, Victim } from './matrix-world.js';

// The callers of the authorization matrix, one call through the front door, and the checks every
// answer must pass on its own.

export const CALLERS = [
  'no credentials',
  'a bogus token',
  'a revoked session',
  "a removed device's token",
  "another account's session",
  "another account's device",
  'another device of the same account',
] as const;

export type Caller = (typeof CALLERS)[number];

const bogus = (prefix: string) => `${prefix}${'x'.repeat(43)}`;

/** The bearer token a caller presents; a bogus one has the prefix of the kind the operation takes. */
export function tokenOf(caller: Caller, scope: Scope, victim: Victim, parties: { attacker: Attacker; sibling: { token: string } }) {
  switch (caller) {
    case 'no credentials':
      return undefined;
    case 'a bogus token':
      return bogus(scope === 'device' ? 'hd_' : 'hs_');
    case 'a revoked session':
      return victim.revokedSessionToken;
    case "a removed device's token":
      return victim.removedDeviceToken;
    case "another account's session":
      return parties.attacker.sessionToken;
    case "another account's device":
      return parties.attacker.deviceToken;
    case 'another device of the same account':
      return parties.sibling.token;
  }
}

/** Whether the operation's scope lets the caller past authentication: anyone for public ones. */
export function admitted(caller: Caller, scope: Scope) {
  if (scope === 'public' || scope === 'webhook') return true;
  if (scope === 'session') return caller === "another account's session";
  return caller === "another account's device" || caller === 'another device of the same account';
}

/** What a caller must be answered: the sample's answer for the callers the scope admits, else 401. */
export function expectedAnswer(caller: Caller, scope: Scope, sample: Sample): Answer {
  if (!admitted(caller, scope)) return 401;
  return scope === 'device' && caller === 'another device of the same account' ? sample.sibling! : sample.expect;
}

export interface Called {
  status: number;
  code?: string;
  message?: string;
  contentType?: string;
  json?: any;
  bytes: Buffer;
  /** The body as text, with every response header. */
  seen: string;
  requestId: string | null;
  /** The request's path, query and body as text: what the caller itself sent. */
  sent: string;
  /** Whether the request named any of the ids it was built from. */
  namesIds: boolean;
  summary: string;
}

/** `value` standing alone in `text`, not as part of a longer token (a code inside a timestamp, say). */
const occurs = (text: string, value: string) =>
  new RegExp(`(?<![A-Za-z0-9_-])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_-])`).test(text);

/** Sends `METHOD template` with the sample's request, path parameters filled from `ids`. */
export async function call(t: TestApp, key: string, spec: RequestSpec, ids: Ids, token: string | undefined): Promise<Called> {
  const [method, template] = key.split(' ') as [string, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = spec.params?.[name] ?? PATH_PARAMETERS[name]?.(ids);
    if (value === undefined) throw new Error(`${key}: no value for path parameter ${name}; add it to PATH_PARAMETERS`);
    return encodeURIComponent(value);
  });
  const query = spec.query ? `?${new URLSearchParams(spec.query)}` : '';
  const json = spec.body === undefined ? undefined : JSON.stringify(spec.body);
  const headers: Record<string, string> = {
    'X-Forwarded-For': freshAddress(),
    ...(json ? { 'Content-Type': 'application/json' } : {}),
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
    ...spec.headers,
  };
  const res = await t.app.request(`${TEST_ORIGIN}${path}${query}`, { method, headers, body: (json ?? spec.raw) as BodyInit | undefined });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('Content-Type')?.split(';')[0]?.trim();
  const parsed = contentType === 'application/json' && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : undefined;
  const sent = `${path}${query}\n${json ?? (typeof spec.raw === 'string' ? spec.raw : '')}`;
  return {
    status: res.status,
    code: parsed?.error?.code,
    message: parsed?.error?.message,
    contentType,
    json: parsed,
    bytes,
    seen: `${bytes.toString('utf8')}\n${[...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}`,
    requestId: res.headers.get('X-Request-Id'),
    sent,
    namesIds: Object.values(ids).some((value) => occurs(sent, value)),
    summary: `${res.status} ${parsed?.error?.code ?? ''} ${parsed?.error?.message ?? ''}`.trim(),
  };
}

/** Problems with an error answer's shape: the one shape, a code of the closed set, the request id. */
export function shapeProblems(answer: Called): string[] {
  if (answer.status < 400) return [];
  if (answer.contentType !== 'application/json') return [`an error answered as ${answer.contentType ?? 'no body'}`];
  const body = answer.json ?? {};
  const error = body.error ?? {};
  const problems = [
    Object.keys(body).join() === 'error' ? '' : `the body's keys are ${Object.keys(body).join(', ')}, not just error`,
    Object.keys(error).every((k) => ['code', 'message', 'requestId', 'details'].includes(k)) ? '' : `unexpected error fields ${Object.keys(error).join(', ')}`,
    (ERROR_CODES as readonly string[]).includes(error.code) ? '' : `code ${error.code} is not one of the closed set`,
    typeof error.message === 'string' && error.message.length > 0 ? '' : 'no message',
    error.requestId && error.requestId === answer.requestId ? '' : 'the requestId is not the X-Request-Id header',
  ];
  return problems.filter(Boolean);
}

/**
 * The victim's values the answer shows that the caller did not send itself (an id echoed from the
 * request reveals nothing); ciphertexts, keys, tokens and bytes are never sent, so always count.
 */
export function leaksIn(answer: Called, victim: Victim): string[] {
  return [
    ...victim.secrets.filter(([, value]) => occurs(answer.seen, value) && !occurs(answer.sent, value)).map(([name]) => name),
    ...victim.secretBytes.filter(([, value]) => answer.bytes.includes(value)).map(([name]) => name),
  ];
}

/** A JSON value with every leaf replaced by its type: what two answers must share beyond their ids. */
const shapeOf = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(shapeOf)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shapeOf(v)]))
      : value === null ? 'null' : typeof value;

/**
 * The same status, code and message (once each set's ids are written as their names), and a body
 * of the same shape: a decoy must not be told from the real thing by a field it lacks.
 */
export function sameAnswer(a: Called, b: Called, aIds: Ids, bIds: Ids) {
  const normalize = (message: string | undefined, ids: Ids) =>
    Object.entries(ids).reduce((text, [name, value]) => text?.replaceAll(value, `<${name}>`), message);
  return (
    a.status === b.status &&
    a.code === b.code &&
    normalize(a.message, aIds) === normalize(b.message, bIds) &&
    JSON.stringify(shapeOf(a.json)) === JSON.stringify(shapeOf(b.json))
  );
}
