import { describeError } from './api.js';
import { byId } from './views.js';

// Modal <dialog>s: the browser traps focus, Escape cancels, and focus returns to the button that
// opened them. A failed action keeps the dialog open with the error shown inside it.

export interface ActionDialog {
  open(action: (data: FormData) => Promise<void>, onClose?: () => void): void;
  close(): void;
}

export function createActionDialog(id: string): ActionDialog {
  const dialog = byId<HTMLDialogElement>(id);
  const form = dialog.querySelector('form')!;
  const error = dialog.querySelector<HTMLElement>('.dialog-error');
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  let action: ((data: FormData) => Promise<void>) | undefined;
  let onClose: (() => void) | undefined;

  const showError = (message: string | null) => {
    if (!error) return;
    error.textContent = message ?? '';
    error.hidden = !message;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!action || submit.disabled) return;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showError(null);
    try {
      await action(new FormData(form));
      dialog.close();
    } catch (err) {
      showError(describeError(err));
    } finally {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    // Passwords typed into a dialog do not outlive it.
    for (const input of form.querySelectorAll<HTMLInputElement>('input[type="password"]')) input.value = '';
    action = undefined;
    const callback = onClose;
    onClose = undefined;
    callback?.();
  });

  return {
    open(next, closed) {
      action = next;
      onClose = closed;
      showError(null);
      dialog.showModal();
    },
    close: () => dialog.close(),
  };
}

/** Asks a yes/no question in the confirm dialog; resolves true only when the owner confirms. */
export function createConfirm() {
  const dialog = createActionDialog('confirm-dialog');
  return (text: string, okLabel: string) =>
    new Promise<boolean>((resolve) => {
      byId('confirm-text').textContent = text;
      byId('confirm-ok').textContent = okLabel;
      let confirmed = false;
      dialog.open(
        async () => {
          confirmed = true;
        },
        () => resolve(confirmed),
      );
    });
}
