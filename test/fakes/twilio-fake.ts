import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TwilioFakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
}

export interface TwilioFake {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  requests: TwilioFakeRequest[];
  /** The next request is answered with this status and JSON body instead of being handled. */
  failNext(status: number, body: object): void;
  /** The next request is never answered, to exercise client timeouts. */
  hangNext(): void;
  close(): Promise<void>;
}

/** The one account the fake serves, and the credentials Twilio would accept for it. */
export interface TwilioFakeAccount {
  accountSid: string;
  authToken: string;
  /** API key SID → secret. */
  apiKeys?: Record<string, string>;
}

/**
 * A stand-in for Twilio's REST API (the only paid service the tests may fake): POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json answers like Twilio does. As Twilio, it accepts
 * only Basic auth with the account's SID and auth token, or one of its API keys with its secret,
 * and answers its own errors for any other credential or a missing field. Every request is
 * recorded, form decoded.
 */
export async function startTwilioFake(account: TwilioFakeAccount): Promise<TwilioFake> {
  const requests: TwilioFakeRequest[] = [];
  const scripted: Array<{ status: number; body: object } | 'hang'> = [];
  const hanging = new Set<import('node:http').ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, headers: req.headers, form });

      const send = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'twilio-request-id': `RQ${hex(16)}` });
        res.end(JSON.stringify(body));
      };
      const next = scripted.shift();
      if (next === 'hang') return void hanging.add(res);
      if (next) return send(next.status, next.body);

      const route = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/.exec(path);
      if (!route || req.method !== 'POST') {
        return send(404, twilioError(20404, `The requested resource ${path} was not found`, 404));
      }
      if (route[1] !== account.accountSid || !authenticates(account, req.headers.authorization)) {
        return send(401, twilioError(20003, 'Authenticate', 401));
      }
      if (!form.To) return send(400, twilioError(21604, "A 'To' phone number is required.", 400));
      if (!form.From && !form.MessagingServiceSid) {
        return send(400, twilioError(21603, "A 'From' phone number is required.", 400));
      }
      if (!form.Body) return send(400, twilioError(21602, 'Message body is required.', 400));
      send(201, messageResource(route[1]!, form));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (status, body) => void scripted.push({ status, body }),
    hangNext: () => void scripted.push('hang'),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of hanging) res.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Twilio's legacy error body, as RestException reads it. */
export const twilioError = (code: number, message: string, status: number) => ({
  code,
  message,
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

function authenticates({ accountSid, authToken, apiKeys = {} }: TwilioFakeAccount, header: string | undefined) {
  const encoded = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header ?? '')?.[1];
  if (!encoded) return false;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [user, pass] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  const expected = user === accountSid ? authToken : apiKeys[user];
  return colon > 0 && expected !== undefined && expected !== '' && pass === expected;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function messageResource(accountSid: string, form: Record<string, string>) {
  const sid = `SM${hex(16)}`;
  const now = new Date().toUTCString().replace('GMT', '+0000');
  const viaService = Boolean(form.MessagingServiceSid);
  return {
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: form.Body,
    date_created: now,
    date_sent: null,
    date_updated: now,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    // Through a Messaging Service, Twilio picks the sender later: from is null, status 'accepted'.
    from: viaService ? null : form.From,
    messaging_service_sid: form.MessagingServiceSid ?? null,
    num_media: '0',
    num_segments: String(Math.max(1, Math.ceil((form.Body ?? '').length / 160))),
    price: null,
    price_unit: 'USD',
    sid,
    status: viaService ? 'accepted' : 'queued',
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
    to: form.To,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
  };
}
