import { HomingApiError, HomingNetworkError } from '../client/api.js';

// What the page learns from the answers it gets, beyond each call's own result: whether the server
// can be reached again after it could not, and whether the cookie a login just set ever came back.

export const UNREACHABLE_NOTICE = 'unreachable';

export const unreachableText = (error: HomingNetworkError) =>
  `Cannot reach the server (${error.message}). The page keeps trying, and this notice goes away when the server answers again.`;

/** A login answered 200 but the very next call was logged out: the browser dropped the cookie. */
export const COOKIE_DROPPED =
  'You logged in, but this browser did not keep the session cookie, so the server did not know you on the next request. Browsers drop the Secure session cookie over plain HTTP at any address other than localhost: the operator must serve homing over HTTPS (or behind a TLS-terminating proxy) and set PUBLIC_URL to its https:// address.';

export function createConnectionWatch(events: { reachable(): void }) {
  /** Set by a login until an answer shows the session works (or not). */
  let loginUnconfirmed = false;
  return {
    /** The fetch the page's API client uses: any answer at all means the server is reachable. */
    async fetch(input: string, init: RequestInit): Promise<Response> {
      const response = await fetch(input, init);
      if (response.ok) loginUnconfirmed = false;
      events.reachable();
      return response;
    },
    loggedIn() {
      loginUnconfirmed = true;
    },
    /** True for a logged-out answer that came right after a login: the cookie never came back. */
    cookieDropped(error: unknown) {
      return loginUnconfirmed && error instanceof HomingApiError && error.status === 401;
    },
  };
}
