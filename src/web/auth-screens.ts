import { byId } from './views.js';

// The screens shown before the page holds any keys: log in, sign up (and its guardian code, and
// the recovery key shown once), log in with the recovery key, and unlock a session that survived
// a reload. Exactly one is shown at a time, and moving to one puts the keyboard focus on it.

export type AuthScreen = 'login' | 'signup' | 'signup-code' | 'recovery-key' | 'recovery' | 'unlock';

const SCREENS: Record<AuthScreen, { section: string; focus: string }> = {
  login: { section: 'login-view', focus: 'email' },
  signup: { section: 'signup-view', focus: 'signup-email' },
  'signup-code': { section: 'signup-code-view', focus: 'signup-code' },
  'recovery-key': { section: 'recovery-key-view', focus: 'recovery-key-title' },
  recovery: { section: 'recovery-view', focus: 'recovery-email' },
  unlock: { section: 'unlock-view', focus: 'unlock-password' },
};

let shown: AuthScreen | null = 'login';

export function showAuthScreen(screen: AuthScreen, focus = true) {
  shown = screen;
  for (const [name, { section }] of Object.entries(SCREENS)) byId(section).hidden = name !== screen;
  if (focus) byId(SCREENS[screen].focus).focus();
}

/** Logged in: every pre-login screen goes. */
export function hideAuthScreens() {
  shown = null;
  for (const { section } of Object.values(SCREENS)) byId(section).hidden = true;
}

export const authScreenShown = () => shown;

/** Marks a field as the one at fault (read out with the notice) and puts the cursor in it. */
export function flagField(id: string) {
  const field = byId<HTMLInputElement>(id);
  field.setAttribute('aria-invalid', 'true');
  field.addEventListener('input', () => field.removeAttribute('aria-invalid'), { once: true });
  field.focus();
}
