/** What middleware puts on the Hono context for the handlers after it. */
export interface SessionAuth {
  sessionId: string;
  accountId: string;
  kind: 'bearer' | 'cookie';
  reauthenticatedAt: number | null;
}

export interface DeviceAuth {
  deviceId: string;
  accountId: string;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    clientAddress: string;
    session: SessionAuth;
    device: DeviceAuth;
  };
}
