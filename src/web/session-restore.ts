import { DecryptionError } from '../client/crypto/aead.js';
import { describeError, type ResumedSession, type Session, type WebApi } from './api.js';
import { authScreenShown, flagField, showAuthScreen } from './auth-screens.js';
import { byId, showNotice, showStatus } from './views.js';

// A reload keeps the person logged in. The session lives on in its HttpOnly cookie, but the keys
// lived only in the page's memory, so on start the page asks the server whether the cookie is
// still a live session; if it is, it shows an "Unlock" prompt that asks only for the password and
// opens the keys from the key bundle here. No new session is opened, and a wrong password is
// found out in the page: nothing is sent. A revoked or expired cookie leaves the login form.

export interface RestoreContext {
  api: WebApi;
  loggedIn(session: Session): Promise<void>;
  /** The login form is already being submitted: the person's own login wins over a resumed one. */
  loginInProgress(): boolean;
  /** Ends the page's session (the server's is already ended) and shows the login form. */
  endSession(message: string | null): void;
}

export function createSessionRestore(ctx: RestoreContext) {
  const { api } = ctx;
  const password = byId<HTMLInputElement>('unlock-password');
  let resumed: ResumedSession | null = null;
  let checking: Promise<void> = Promise.resolve();
  /** A live session found while the person was already logging in afresh: it must not outlive the page. */
  let superseded = false;

  async function check() {
    let found: ResumedSession | undefined;
    try {
      found = await api.resume();
    } catch {
      // The server is unreachable or answered oddly: the login form stays, and says why on use.
      return;
    }
    if (!found) return;
    if (authScreenShown() !== 'login' || ctx.loginInProgress()) {
      superseded = true;
      return;
    }
    resumed = found;
    byId('unlock-email').textContent = found.email;
    password.value = '';
    showNotice(null);
    showStatus('');
    showAuthScreen('unlock');
  }

  async function unlock(event: SubmitEvent) {
    event.preventDefault();
    const current = resumed;
    if (!current) return;
    if (!password.value) {
      showNotice('Enter your password.');
      flagField('unlock-password');
      return;
    }
    const button = byId<HTMLButtonElement>('unlock-button');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    showNotice(null);
    showStatus('Unlocking your keys…');
    try {
      const session = await api.unlock(current, password.value);
      password.value = '';
      resumed = null;
      await ctx.loggedIn(session);
    } catch (error) {
      showStatus('');
      if (error instanceof DecryptionError) {
        showNotice(`That password does not open the keys of ${current.email}. Nothing was sent; try again.`);
        flagField('unlock-password');
        password.select();
      } else {
        showNotice(describeError(error));
      }
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  /** "Log out" and "Use another account": both end the session on the server, not just here. */
  async function leave() {
    resumed = null;
    password.value = '';
    await api.logOut().catch(() => undefined);
    ctx.endSession(null);
  }

  byId<HTMLFormElement>('unlock-form').addEventListener('submit', (event) => void unlock(event));
  byId('unlock-other-account').addEventListener('click', () => void leave());
  byId('unlock-logout').addEventListener('click', () => void leave());

  /**
   * Awaited by the login form before it sends anything. A login submitted while the start-up check
   * is still out would otherwise replace the cookie and leave the session it found alive on the
   * server until it expires; ending it first, while the browser still holds its cookie, leaves one
   * session per page.
   */
  async function beforeLogin() {
    await checking;
    if (!superseded) return;
    superseded = false;
    await api.logOut().catch(() => undefined);
  }

  return {
    start() {
      checking = check();
      return checking;
    },
    beforeLogin,
    reset() {
      resumed = null;
      password.value = '';
    },
  };
}
