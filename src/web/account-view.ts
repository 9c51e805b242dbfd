import { HomingApiError } from '../client/api.js';
import type { AccountDeletionStatus, WebApi } from './api.js';
import { type ActionDialog, createActionDialog } from './dialogs.js';
import { saveFile } from './download.js';
import { dateTime } from './format.js';
import { bytes, deletionText } from './privacy-format.js';
import { byId, showNotice, showStatus } from './views.js';
import { checkExportZip } from './zip-check.js';

// Personal data (e-mail and phone), the export, and the account's deletion. Each change the
// server treats as dangerous takes the password again, which signs a fresh challenge here.

export interface AccountContext {
  api: WebApi;
  /** The e-mail the session logged in with, which the proofs are signed for. */
  email(): string | undefined;
  emailChanged(email: string): void;
  fail(error: unknown): void;
}

type Deletion = AccountDeletionStatus['deletion'];

export function createAccountView(ctx: AccountContext) {
  const { api } = ctx;
  const emailDialog = createActionDialog('email-dialog');
  const phoneDialog = createActionDialog('phone-dialog');
  const codeDialog = createActionDialog('code-dialog');
  const passwordDialog = createActionDialog('password-dialog');
  let exporting = false;

  const email = () => {
    const value = ctx.email();
    if (!value) throw new Error('You are logged out. Log in again.');
    return value;
  };

  /** Asks for the password in the shared dialog; `run` gets it and the dialog stays open on failure. */
  function withPassword(title: string, text: string, okLabel: string, run: (password: string) => Promise<void>, after?: () => void) {
    byId('password-title').textContent = title;
    byId('password-text').textContent = text;
    byId('password-ok').textContent = okLabel;
    let done = false;
    passwordDialog.open(
      async (data) => {
        await run(String(data.get('password') ?? ''));
        done = true;
      },
      () => {
        if (done) after?.();
      },
    );
  }

  // ── personal data ────────────────────────────────────────────────────────────────────────────

  async function loadPersonal() {
    const account = await api.account();
    byId('pd-email').textContent = account.email;
    byId('pd-phone').textContent = account.phoneNumber ?? 'none';
    byId('pd-created').textContent = dateTime(account.createdAt);
    byId('pd-remove-phone').hidden = account.phoneNumber === null;
    byId('pd-change-phone').textContent = account.phoneNumber === null ? 'Add a phone number…' : 'Change phone…';
    if (account.email !== ctx.email()) ctx.emailChanged(account.email);
  }

  /** The second step of a change: the code sent to the new address or number. */
  function askCode(sentTo: string, expiresAt: number, confirm: (code: string) => Promise<void>) {
    byId('code-text').textContent = `We sent a 6-digit code to ${sentTo}. It works until ${dateTime(expiresAt)}. Nothing changes until you enter it.`;
    byId<HTMLInputElement>('code-input').value = '';
    codeDialog.open(async (data) => {
      await confirm(String(data.get('code') ?? '').trim());
    });
  }

  /**
   * A change in two steps: the first dialog proves the password and sends a code to the new
   * address or number, then the code dialog confirms it.
   */
  function changeWithCode(
    dialog: ActionDialog,
    inputId: string,
    start: (data: FormData) => Promise<{ to: string; verificationId: string; expiresAt: number }>,
    confirm: (verificationId: string, code: string) => Promise<void>,
  ) {
    byId<HTMLInputElement>(inputId).value = '';
    let started: { to: string; verificationId: string; expiresAt: number } | undefined;
    dialog.open(
      async (data) => {
        started = await start(data);
      },
      () => {
        if (!started) return;
        const { to, verificationId, expiresAt } = started;
        askCode(to, expiresAt, async (code) => {
          await confirm(verificationId, code);
          await loadPersonal();
        });
      },
    );
  }

  function changeEmail() {
    changeWithCode(
      emailDialog,
      'email-new',
      async (data) => {
        const to = String(data.get('email') ?? '').trim();
        return { to, ...(await api.startEmailChange(email(), String(data.get('password') ?? ''), to)) };
      },
      async (verificationId, code) => {
        const account = await api.confirmEmailChange(verificationId, code);
        ctx.emailChanged(account.email);
        showStatus(`Your e-mail address is now ${account.email}.`);
      },
    );
  }

  function changePhone() {
    changeWithCode(
      phoneDialog,
      'phone-new',
      async (data) => {
        const to = String(data.get('phone') ?? '').replace(/[\s()-]/g, '');
        return { to, ...(await api.startPhoneChange(email(), String(data.get('password') ?? ''), to)) };
      },
      async (verificationId, code) => {
        const account = await api.confirmPhoneChange(verificationId, code);
        showStatus(`Your phone number is now ${account.phoneNumber}.`);
      },
    );
  }

  function removePhone() {
    withPassword('Remove your phone number?', 'The server forgets the number. SIM-change checks by SMS stop until you add one again.', 'Remove it', async (password) => {
      await api.removePhone(email(), password);
      showStatus('Your phone number is removed.');
      await loadPersonal();
    });
  }

  // ── export ───────────────────────────────────────────────────────────────────────────────────

  async function exportData() {
    if (exporting) return;
    const button = byId<HTMLButtonElement>('export-button');
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await api.exportArchive();
    } catch (error) {
      // The server gives the archive only to a session that proved the password minutes ago.
      if (error instanceof HomingApiError && error.code === 'reauthentication_required') {
        withPassword(
          'Confirm with your password',
          'The export holds everything in your account, so the server asks for a fresh proof of your password first.',
          'Download',
          async (password) => {
            await api.reauthenticate(email(), password);
          },
          () => void exportData(),
        );
        return;
      }
      ctx.fail(error);
      return;
    }
    exporting = true;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    const line = byId('export-progress-line');
    const text = byId('export-progress-text');
    line.hidden = false;
    byId('export-progress').removeAttribute('value');
    try {
      const chunks: Uint8Array[] = [];
      let received = 0;
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        text.textContent = `${bytes(received)} received`;
      }
      const archive = new Blob(chunks as BlobPart[], { type: 'application/zip' });
      // Checked before it is saved, so a download cut off midway says so instead of looking complete.
      text.textContent = `${bytes(received)} received; checking it…`;
      const summary = await checkExportZip({
        size: archive.size,
        read: async (offset, length) => new Uint8Array(await archive.slice(offset, offset + length).arrayBuffer()),
      });
      saveFile(archive, `homing-export-${new Date(summary.exportedAt).toISOString().slice(0, 10)}.zip`);
      text.textContent = `Done: ${bytes(received)}, ${summary.entries} files and the manifest listing them with their SHA-256.`;
      showStatus('Your export is downloaded.');
    } catch (error) {
      text.textContent = 'The download failed.';
      ctx.fail(error);
    } finally {
      exporting = false;
      button.disabled = false;
      button.removeAttribute('aria-busy');
      byId('export-progress').setAttribute('value', '1');
      byId('export-progress').setAttribute('max', '1');
    }
  }

  // ── deletion ─────────────────────────────────────────────────────────────────────────────────

  function drawDeletion(deletion: Deletion) {
    const pending = byId('deletion-pending');
    const banner = byId('deletion-banner');
    const cancellable = deletion !== null && !deletion.purgeStarted && deletion.requestedBy === 'owner';
    byId('deletion-none').hidden = deletion !== null;
    byId('deletion-request').hidden = deletion !== null;
    byId('deletion-cancel').hidden = !cancellable;
    byId('deletion-banner-cancel').hidden = !cancellable;
    pending.hidden = deletion === null;
    banner.hidden = deletion === null;
    if (!deletion) return;
    let text = deletionText(deletion.dueAt, Date.now(), deletion.requestedBy);
    if (deletion.purgeStarted) text += ' The deletion has begun and can no longer be cancelled.';
    else if (cancellable) text += ' To keep your account, press "Cancel the deletion" before then: here, or in the notice shown each time you log in.';
    else text += ' Only your parent or guardian can cancel it.';
    pending.textContent = text;
    byId('deletion-banner-text').textContent = text;
  }

  async function loadDeletion() {
    drawDeletion((await api.deletion()).deletion);
  }

  function requestDeletion() {
    withPassword(
      'Delete your account?',
      'Everything in your account is deleted from this server after the grace period: your encrypted data, devices, locations, consents and personal data. Until then you can cancel. You receive a signed receipt when it is done.',
      'Delete my account',
      async (password) => {
        const { deletion } = await api.requestDeletion(email(), password);
        drawDeletion(deletion);
        showStatus(deletion ? `Your account will be deleted on ${dateTime(deletion.dueAt)}.` : 'Deletion requested.');
      },
      () => byId('deletion-title').scrollIntoView({ block: 'nearest' }),
    );
  }

  async function cancelDeletion(button: HTMLButtonElement) {
    button.disabled = true;
    try {
      await api.cancelDeletion();
      showNotice(null);
      showStatus('The deletion is cancelled; your account stays as it is.');
      await loadDeletion();
    } catch (error) {
      ctx.fail(error);
    } finally {
      button.disabled = false;
    }
  }

  byId('pd-change-email').addEventListener('click', changeEmail);
  byId('pd-change-phone').addEventListener('click', changePhone);
  byId('pd-remove-phone').addEventListener('click', removePhone);
  byId('export-button').addEventListener('click', () => void exportData());
  byId('deletion-request').addEventListener('click', requestDeletion);
  for (const id of ['deletion-cancel', 'deletion-banner-cancel']) {
    const button = byId<HTMLButtonElement>(id);
    button.addEventListener('click', () => void cancelDeletion(button));
  }

  return {
    /** On every login: a pending deletion shows as a banner on every view. */
    loadNotices: () => loadDeletion(),
    load: () => Promise.all([loadPersonal(), loadDeletion()]),
    reset() {
      for (const id of ['pd-email', 'pd-phone', 'pd-created', 'export-progress-text']) byId(id).textContent = '';
      byId('export-progress-line').hidden = true;
      byId('deletion-banner').hidden = true;
    },
  };
}
