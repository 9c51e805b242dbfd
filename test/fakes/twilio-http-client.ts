import type twilio from 'twilio';
import type { TwilioHttpClient } from '../../src/adapters/sms-twilio.js';

type RequestOptions = Parameters<twilio.RequestClient['request']>[0];
type Response = Awaited<ReturnType<twilio.RequestClient['request']>>;

/**
 * An httpClient for the real twilio SDK that sends what the SDK builds to the local fake: any
 * https://*.twilio.com URL (api.twilio.com, api.dublin.ie1.twilio.com, …) keeps its path and
 * query and gets the fake's origin. It sets Basic auth from username and password the way
 * twilio's RequestClient does, and returns the SDK's { statusCode, body, headers } shape.
 */
export class RedirectingTwilioHttpClient implements TwilioHttpClient {
  /** The URLs the SDK asked for, before rewriting. */
  readonly requested: Array<{ method: string; uri: string }> = [];

  constructor(
    private readonly target: string,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  async request<TData>(opts: RequestOptions): Promise<Response & { body: TData }> {
    this.requested.push({ method: opts.method, uri: opts.uri });
    const original = new URL(opts.uri);
    if (original.protocol !== 'https:' || !/(^|\.)twilio\.com$/.test(original.hostname)) {
      throw new Error(`refusing to send a request off Twilio: ${original.origin}`);
    }
    const url = new URL(original.pathname + original.search, this.target);
    for (const [key, value] of Object.entries(opts.params ?? {})) appendParam(url.searchParams, key, value);

    const headers: Record<string, string> = { ...opts.headers };
    if (opts.username && opts.password) {
      headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    } else if (opts.authStrategy) {
      headers.Authorization = await opts.authStrategy.getAuthString();
    }

    let body: string | undefined;
    if (opts.data) {
      if (headers['Content-Type'] === 'application/json') {
        body = JSON.stringify(opts.data);
      } else {
        const form = new URLSearchParams();
        for (const [key, value] of Object.entries(opts.data)) appendParam(form, key, value);
        body = form.toString();
      }
    }

    const response = await fetch(url, {
      method: opts.method.toUpperCase(),
      headers,
      body,
      redirect: opts.allowRedirects ? 'follow' : 'manual',
      signal: AbortSignal.timeout(opts.timeout ?? this.options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    const isJson = (response.headers.get('content-type') ?? '').includes('json');
    return {
      statusCode: response.status,
      // Like axios in twilio's RequestClient: JSON parsed, anything else left as text.
      body: (isJson && text ? JSON.parse(text) : text) as TData,
      headers: Object.fromEntries(response.headers),
    };
  }
}

/** qs.stringify(…, { arrayFormat: 'repeat' }) as the SDK uses it: arrays repeat, undefined is dropped. */
function appendParam(target: URLSearchParams, key: string, value: unknown) {
  if (value === undefined) return;
  if (Array.isArray(value)) for (const item of value) appendParam(target, key, item);
  else target.append(key, String(value));
}
