import { DecryptionError } from '../client/crypto/aead.js';
import type { Session, WebApi } from './api.js';
import { newPasswordProblem } from './account-format.js';
import { createActionDialog } from './dialogs.js';
import { byId, showStatus } from './views.js';

// Changing the password. The current password opens the master key here (from the key bundle),
// the new one re-wraps it, and the server, given a fresh proof signed with the current password,
// stores the new wrapping and signs out every other session. Neither password is sent.

export interface PasswordContext {
  api: WebApi;
  session(): Session | null;
  /** Other sessions were signed out: the session list must follow. */
  changed(): void;
}

/** A wrong current password is found out here, before anything is sent. */
export const WRONG_PASSWORD = 'That is not your current password: it does not open your keys. Nothing was changed.';

export function createPasswordView(ctx: PasswordContext) {
  const dialog = createActionDialog('change-password-dialog');

  function open() {
    dialog.open(async (data) => {
      const session = ctx.session();
      if (!session) throw new Error('You are logged out. Log in again.');
      const current = String(data.get('current') ?? '');
      const next = String(data.get('new') ?? '');
      const weak = newPasswordProblem(next, String(data.get('confirm') ?? ''));
      if (weak) throw new Error(weak.problem);
      if (next === current) throw new Error('The new password is the same as the current one.');
      try {
        const { revokedSessions } = await ctx.api.changePassword(session, current, next);
        showStatus(
          revokedSessions === 0
            ? 'Your password is changed.'
            : `Your password is changed, and ${revokedSessions === 1 ? '1 other session was' : `${revokedSessions} other sessions were`} signed out.`,
        );
      } catch (error) {
        throw error instanceof DecryptionError ? new Error(WRONG_PASSWORD) : error;
      }
      ctx.changed();
    });
  }

  byId('change-password').addEventListener('click', open);
}
