import type { z } from '@hono/zod-openapi';
import type { accountResponse, passwordChangeBody, passwordChangeResponse, signupBody } from '../features/accounts/schemas.js';
import type { challengeResponse, currentSession, loginResponse, reauthenticateResponse } from '../features/auth/schemas.js';
import type { device, registerDeviceBody, registeredDevice } from '../features/devices/schemas.js';

// Types come from the server's own request and response schemas (type-only imports), so the
// client and the API cannot drift apart without the type check noticing.

export type SignupRequest = z.input<typeof signupBody>;
export type Challenge = z.infer<typeof challengeResponse>;
export type LoginResponse = z.infer<typeof loginResponse>;
export type Account = z.infer<typeof accountResponse>;
export type Device = z.infer<typeof device>;
export type RegisteredDevice = z.infer<typeof registeredDevice>;
export type RegisterDeviceRequest = z.input<typeof registerDeviceBody>;
export type PasswordChangeRequest = z.input<typeof passwordChangeBody>;
export type CurrentSession = z.infer<typeof currentSession>;
export interface Proof {
  challengeId: string;
  signature: string;
}
export interface SessionSummary {
  id: string;
  kind: 'bearer' | 'cookie';
  label: string | null;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  current: boolean;
}

/** An error answered by the server, in its one error shape. */
export class HomingApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'HomingApiError';
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  /** Defaults to the global fetch; tests pass app.request. */
  fetch?: (input: string, init: RequestInit) => Promise<Response> | Response;
  sessionToken?: string;
  deviceToken?: string;
}

type Auth = 'none' | 'session' | 'device';

export function createApiClient(options: ApiClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  let sessionToken = options.sessionToken;
  const deviceToken = options.deviceToken;

  async function call<T>(method: string, path: string, auth: Auth, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = auth === 'session' ? sessionToken : auth === 'device' ? deviceToken : undefined;
    if (auth !== 'none') {
      if (!token) throw new Error(auth === 'session' ? 'not logged in' : 'this device is not registered');
      headers.Authorization = `Bearer ${token}`;
    }
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`cannot reach ${baseUrl}: ${(err as Error).message}`);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new HomingApiError(response.status, 'invalid_response', `the server answered ${response.status} with non-JSON`, undefined);
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; requestId?: string } })?.error;
      throw new HomingApiError(
        response.status,
        error?.code ?? 'unknown',
        error?.message ?? `HTTP ${response.status}`,
        error?.requestId,
      );
    }
    return parsed as T;
  }

  return {
    baseUrl,
    /** The origin that login signatures are bound to: the one this client actually talks to. */
    origin: new URL(baseUrl).origin,
    setSessionToken(token: string | undefined) {
      sessionToken = token;
    },
    signUp: (body: SignupRequest) => call<{ accountId: string }>('POST', '/v1/accounts', 'none', body),
    challenge: (email: string, method: 'password' | 'recovery' = 'password') =>
      call<Challenge>('POST', '/v1/auth/challenge', 'none', { email, method }),
    login: (body: Proof & { session?: 'bearer' | 'cookie'; label?: string }) =>
      call<LoginResponse>('POST', '/v1/auth/login', 'none', body),
    currentSession: () => call<CurrentSession>('GET', '/v1/auth/session', 'session'),
    reauthenticate: (proof: Proof) =>
      call<z.infer<typeof reauthenticateResponse>>('POST', '/v1/auth/reauthenticate', 'session', proof),
    logout: () => call<void>('POST', '/v1/auth/logout', 'session'),
    account: () => call<Account>('GET', '/v1/account', 'session'),
    changePassword: (body: PasswordChangeRequest) =>
      call<z.infer<typeof passwordChangeResponse>>('POST', '/v1/account/password', 'session', body),
    sessions: () => call<{ sessions: SessionSummary[] }>('GET', '/v1/sessions', 'session'),
    revokeSession: (id: string) => call<void>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`, 'session'),
    revokeOtherSessions: () => call<{ revoked: number }>('POST', '/v1/sessions/revoke-others', 'session'),
    registerDevice: (body: RegisterDeviceRequest) => call<RegisteredDevice>('POST', '/v1/devices', 'session', body),
    devices: () => call<{ devices: Device[] }>('GET', '/v1/devices', 'session'),
    device: (id: string) => call<Device>('GET', `/v1/devices/${encodeURIComponent(id)}`, 'session'),
    renameDevice: (id: string, name: string) =>
      call<Device>('PATCH', `/v1/devices/${encodeURIComponent(id)}`, 'session', { name }),
    removeDevice: (id: string) => call<void>('DELETE', `/v1/devices/${encodeURIComponent(id)}`, 'session'),
    thisDevice: () => call<Device>('GET', '/v1/device', 'device'),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
