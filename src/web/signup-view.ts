import { describeError, type PendingSignup, type Session, type WebApi } from './api.js';
import { needsGuardian, newPasswordProblem, parseBirthYear, parseGuardianContact } from './account-format.js';
import { flagField, showAuthScreen } from './auth-screens.js';
import { dateTime } from './format.js';
import { createRecoveryKeyOnce } from './recovery-key-once.js';
import { byId, showNotice, showStatus } from './views.js';

// Sign-up in the page. The keys are made here (signUp derives them from the password and draws a
// fresh recovery key); the server receives only public keys and wrapped secrets. Someone who may
// be under 14 names a parent or guardian, who gets a code; the account exists once it is entered.
// Then the recovery key is shown once, and the page logs in with the password just chosen.

export interface SignupContext {
  api: WebApi;
  loggedIn(session: Session): Promise<void>;
}

/** A sign-up in progress between its steps; the password stays only until the login after it. */
interface Started {
  email: string;
  password: string;
  recoveryKey: string;
  pending?: PendingSignup;
}

export function createSignupView(ctx: SignupContext) {
  const { api } = ctx;
  const recoveryKey = createRecoveryKeyOnce();
  const form = byId<HTMLFormElement>('signup-form');
  const guardianGroup = byId('signup-guardian-group');
  let started: Started | null = null;

  const field = (id: string) => byId<HTMLInputElement>(id);

  function problem(message: string, fieldId: string) {
    showNotice(message);
    flagField(fieldId);
  }

  /** The guardian's field appears as soon as the birth year says the server will ask for it. */
  function updateGuardian() {
    const birth = parseBirthYear(field('signup-birth-year').value, Date.now());
    const show = 'year' in birth && needsGuardian(birth.year, Date.now());
    guardianGroup.hidden = !show;
    field('signup-guardian').required = show;
  }

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const email = field('signup-email').value.trim();
    const password = field('signup-password').value;
    if (!email) return problem('Enter your e-mail address.', 'signup-email');
    const weak = newPasswordProblem(password, field('signup-password-confirm').value);
    if (weak) return problem(weak.problem, weak.field === 'password' ? 'signup-password' : 'signup-password-confirm');
    const birth = parseBirthYear(field('signup-birth-year').value, Date.now());
    if ('problem' in birth) return problem(birth.problem, 'signup-birth-year');
    let guardian;
    if (needsGuardian(birth.year, Date.now())) {
      const parsed = parseGuardianContact(field('signup-guardian').value);
      if ('problem' in parsed) return problem(parsed.problem, 'signup-guardian');
      guardian = parsed.contact;
    }
    const button = byId<HTMLButtonElement>('signup-button');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    showNotice(null);
    showStatus('Making your keys in this page…');
    try {
      const answer = await api.signUp({ email, password, birthYear: birth.year, guardian });
      started = { email, password, recoveryKey: answer.recoveryKey, pending: answer.pending };
      form.reset();
      updateGuardian();
      if (answer.pending) askGuardianCode(answer.pending);
      else showRecoveryKey();
    } catch (error) {
      showStatus('');
      showNotice(describeError(error));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  function askGuardianCode(pending: PendingSignup) {
    byId('signup-code-text').textContent =
      `Because you may be under 14, a parent or guardian must agree first. We sent a 6-digit code to ${pending.guardian}; it works until ${dateTime(pending.codeExpiresAt)}. Ask them for it and enter it here. Your account is created once the code is confirmed.`;
    field('signup-code').value = '';
    showStatus('');
    showAuthScreen('signup-code');
  }

  async function confirmCode(event: SubmitEvent) {
    event.preventDefault();
    const pending = started?.pending;
    if (!pending) return;
    const code = field('signup-code').value.trim();
    if (!/^[0-9]{6}$/.test(code)) return problem('Enter the 6-digit code your parent or guardian received.', 'signup-code');
    const button = byId<HTMLButtonElement>('signup-code-button');
    button.disabled = true;
    showNotice(null);
    try {
      await api.confirmSignup(pending, code);
      showRecoveryKey();
    } catch (error) {
      showNotice(describeError(error));
      field('signup-code').focus();
    } finally {
      button.disabled = false;
    }
  }

  async function resendCode() {
    const pending = started?.pending;
    if (!pending) return;
    try {
      const sent = await api.resendSignupCode(pending.pendingSignupId);
      started!.pending = { ...pending, verificationId: sent.verificationId, codeExpiresAt: sent.expiresAt };
      showNotice(null);
      showStatus(`A new code is on its way to ${pending.guardian}. The earlier one no longer works.`);
    } catch (error) {
      showNotice(describeError(error));
    }
  }

  function showRecoveryKey() {
    const done = started;
    if (!done) return;
    showStatus('Your account is created.');
    recoveryKey.show({
      recoveryKey: done.recoveryKey,
      email: done.email,
      onContinue: async () => {
        started = null;
        showStatus('Logging in…');
        try {
          await ctx.loggedIn(await api.logIn(done.email, done.password));
        } catch (error) {
          showStatus('');
          showAuthScreen('login');
          byId<HTMLInputElement>('email').value = done.email;
          showNotice(describeError(error));
        }
      },
    });
  }

  function cancel() {
    started = null;
    form.reset();
    updateGuardian();
    showNotice(null);
    showAuthScreen('login');
  }

  form.addEventListener('submit', (event) => void submit(event));
  field('signup-birth-year').addEventListener('input', updateGuardian);
  byId<HTMLFormElement>('signup-code-form').addEventListener('submit', (event) => void confirmCode(event));
  byId('signup-code-resend').addEventListener('click', () => void resendCode());
  byId('signup-code-cancel').addEventListener('click', cancel);
  byId('signup-cancel').addEventListener('click', cancel);
  byId('show-signup').addEventListener('click', () => {
    showNotice(null);
    showAuthScreen('signup');
  });

  return {
    /** The session ended or another account is wanted: nothing of a sign-up in progress stays. */
    reset() {
      started = null;
      form.reset();
      updateGuardian();
      recoveryKey.reset();
    },
  };
}
