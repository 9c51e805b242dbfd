import twilio from 'twilio';
import type { TwilioHttpClient } from '../../src/adapters/sms-twilio.js';

/** The fake's URL for a request meant for Twilio; anything off https://*.twilio.com is refused. */
function onFake(target: string, uri: string) {
  const original = new URL(uri);
  if (original.protocol !== 'https:' || !/(^|\.)twilio\.com$/.test(original.hostname)) {
    throw new Error(`refusing to send a request off Twilio: ${original.origin}`);
  }
  return new URL(original.pathname + original.search, target).href;
}

/**
 * An httpClient for the real twilio SDK that sends what the SDK builds to the local fake: any
 * https://*.twilio.com URL (api.twilio.com, api.dublin.ie1.twilio.com, …) keeps its path and
 * query and gets the fake's origin. The request itself goes through twilio's own RequestClient,
 * so auth, encoding, timeouts and errors are the SDK's.
 */
export class RedirectingTwilioHttpClient implements TwilioHttpClient {
  /** The URLs the SDK asked for, before rewriting. */
  readonly requested: string[] = [];
  private readonly client = new twilio.RequestClient();

  constructor(private readonly target: string) {}

  readonly request: TwilioHttpClient['request'] = (opts) => {
    this.requested.push(opts.uri);
    return this.client.request({ ...opts, uri: onFake(this.target, opts.uri) });
  };
}

/** The same redirection for the fetch sender: a fetch that sends Twilio's requests to the fake. */
export function redirectingFetch(target: string, requested: string[] = []) {
  return (url: string, init: RequestInit) => {
    requested.push(url);
    return fetch(onFake(target, url), init);
  };
}
