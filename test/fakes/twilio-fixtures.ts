import { randomBytes } from 'node:crypto';

// Made-up Twilio credentials and numbers, shaped like real ones, for the SMS sender tests.
export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const ACCOUNT_SID = `AC${hex(16)}`;
export const AUTH_TOKEN = hex(16);
export const API_KEY_SID = `SK${hex(16)}`;
export const API_KEY_SECRET = randomBytes(24).toString('base64url');
export const SERVICE_SID = `MG${hex(16)}`;
export const FROM = '+15005550006';
export const TO = '+447700900123';
export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
/** The account the fake serves, with the credentials above. */
export const FAKE_ACCOUNT = { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiKeys: { [API_KEY_SID]: API_KEY_SECRET } };
