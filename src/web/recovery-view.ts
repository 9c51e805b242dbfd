import { parseRecoveryKey } from '../client/crypto/account-keys.js';
import { describeError, type Session, type WebApi } from './api.js';
import { newPasswordProblem } from './account-format.js';
import { flagField, showAuthScreen } from './auth-screens.js';
import { byId, showNotice, showStatus } from './views.js';

// Forgot the password: log in with the recovery key and choose a new password in one step. The
// recovery key signs the login challenge and opens the master key here; the new password re-wraps
// it, and the server then signs out every other session. Neither secret leaves the page.

export interface RecoveryContext {
  api: WebApi;
  loggedIn(session: Session): Promise<void>;
}

export function createRecoveryView(ctx: RecoveryContext) {
  const form = byId<HTMLFormElement>('recovery-form');
  const field = (id: string) => byId<HTMLInputElement>(id);

  function problem(message: string, fieldId: string) {
    showNotice(message);
    flagField(fieldId);
  }

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const email = field('recovery-email').value.trim();
    const recoveryKey = field('recovery-key-input').value.trim();
    const password = field('recovery-new-password').value;
    if (!email) return problem('Enter your e-mail address.', 'recovery-email');
    try {
      parseRecoveryKey(recoveryKey);
    } catch {
      return problem('A recovery key is 64 letters and digits (0–9, a–f), in groups of 8; spaces and dashes do not matter.', 'recovery-key-input');
    }
    const weak = newPasswordProblem(password, field('recovery-new-password-confirm').value);
    if (weak) return problem(weak.problem, weak.field === 'password' ? 'recovery-new-password' : 'recovery-new-password-confirm');
    const button = byId<HTMLButtonElement>('recovery-button');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    showNotice(null);
    showStatus('Opening your keys with the recovery key and setting the new password…');
    try {
      const session = await ctx.api.logInWithRecoveryKey(email, recoveryKey, password);
      form.reset();
      await ctx.loggedIn(session);
      showStatus('Logged in with your recovery key. Your new password is set, and every other session is signed out.');
    } catch (error) {
      showStatus('');
      showNotice(`Your password was not changed. ${describeError(error)}`);
      field('recovery-key-input').focus();
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  form.addEventListener('submit', (event) => void submit(event));
  byId('show-recovery').addEventListener('click', () => {
    showNotice(null);
    const typed = field('email').value.trim();
    if (typed && !field('recovery-email').value) field('recovery-email').value = typed;
    showAuthScreen('recovery');
  });
  byId('recovery-cancel').addEventListener('click', () => {
    form.reset();
    showNotice(null);
    showAuthScreen('login');
  });

  return {
    reset: () => form.reset(),
  };
}
