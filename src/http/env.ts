import type { devices } from '../db/schema.js';

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
  /** The device's row as its token was checked, for handlers that need more of it. */
  record: typeof devices.$inferSelect;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    clientAddress: string;
    session: SessionAuth;
    device: DeviceAuth;
  };
}
