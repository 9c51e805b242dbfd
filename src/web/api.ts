import { createApiClient, HomingApiError } from '../client/api.js';
import type { Command, Device, LastLocation, LocationHistory, SimEvent } from '../client/api.js';
import { logIn, proveIdentity } from '../client/account.js';
import type { UnlockedKeys } from '../client/crypto/account-keys.js';
import type { SignedCommand } from '../client/crypto/commands.js';

// The page talks to its own origin only, with the HttpOnly session cookie. The cookie cannot be
// read by script, so a stolen page script could not take it away; every change also carries the
// CSRF token that only a same-origin page learns from the login answer.

export type { Command, Device, SimEvent };

export interface Session {
  accountId: string;
  email: string;
  keys: UnlockedKeys;
}

async function errorFrom(response: Response): Promise<HomingApiError> {
  let error: { code?: string; message?: string; requestId?: string } | undefined;
  try {
    error = ((await response.json()) as { error?: typeof error }).error;
  } catch {
    // not our error shape
  }
  return new HomingApiError(
    response.status,
    error?.code ?? 'unknown',
    error?.message ?? `the server answered HTTP ${response.status}`,
    error?.requestId ?? response.headers.get('X-Request-Id') ?? undefined,
  );
}

export function createWebApi(origin: string) {
  // The SDK client runs the challenge and login (no session needed for those); its origin is the
  // one the login signature is bound to.
  const sdk = createApiClient({ baseUrl: origin });
  let csrfToken: string | undefined;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      throw new Error('cannot reach the server; check the connection and try again');
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  const device = (id: string) => `/v1/devices/${encodeURIComponent(id)}`;

  return {
    /** Derives the keys from the password here, signs the challenge, and opens a cookie session. */
    async logIn(email: string, password: string): Promise<Session> {
      const { response, keys } = await logIn(sdk, { email, password, session: 'cookie', label: 'Find Device web page' });
      csrfToken = response.session.csrfToken;
      if (!csrfToken) throw new Error('the server opened no cookie session');
      keys.masterKey.fill(0);
      return { accountId: response.accountId, email, keys };
    },
    async logOut() {
      try {
        await request<void>('POST', '/v1/auth/logout');
      } finally {
        csrfToken = undefined;
      }
    },
    /** A fresh signed proof of the password, which the server asks for before a wipe. */
    async reauthenticate(email: string, password: string) {
      const proof = await proveIdentity(sdk, { email, password });
      return request<{ reauthenticatedAt: number }>('POST', '/v1/auth/reauthenticate', proof);
    },
    devices: () => request<{ devices: Device[] }>('GET', '/v1/devices'),
    setFind: (deviceId: string, enabled: boolean) => request<Device>('PUT', `${device(deviceId)}/find`, { enabled }),
    lastLocation: (deviceId: string) => request<LastLocation>('GET', `${device(deviceId)}/location`),
    locations: (deviceId: string, from: number) =>
      request<LocationHistory>('GET', `${device(deviceId)}/locations?from=${Math.floor(from)}`),
    commands: (deviceId: string) => request<{ commands: Command[] }>('GET', `${device(deviceId)}/commands`),
    sendCommand: (deviceId: string, signed: SignedCommand) => request<Command>('POST', `${device(deviceId)}/commands`, signed),
    simEvents: (deviceId: string) => request<{ events: SimEvent[] }>('GET', `${device(deviceId)}/sim-events`),
  };
}

export type WebApi = ReturnType<typeof createWebApi>;

/** The server's own message, which is written for people; anything else gets a plain fallback. */
export function describeError(error: unknown): string {
  if (error instanceof HomingApiError) {
    if (error.code === 'unauthorized') return 'Your session has ended. Log in again.';
    return error.requestId ? `${error.message} (request ${error.requestId})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
