import { recoveryKeyFile } from './account-format.js';
import { showAuthScreen } from './auth-screens.js';
import { saveFile } from './download.js';
import { byId, showNotice, showStatus } from './views.js';

// The recovery key, shown once right after sign-up. The server never had it (it only holds the
// master key wrapped by it), so this is the only time it exists outside the person's own copy:
// copy it, download it, confirm it is saved, and on "Continue" it leaves the DOM and memory.

export interface RecoveryKeyInput {
  recoveryKey: string;
  email: string;
  /** After "Continue": the key is already gone from the page. */
  onContinue(): Promise<void>;
}

export function createRecoveryKeyOnce() {
  const keyText = byId('recovery-key');
  const saved = byId<HTMLInputElement>('recovery-key-saved');
  const next = byId<HTMLButtonElement>('recovery-key-continue');
  let current: RecoveryKeyInput | null = null;
  let revokeDownload: (() => void) | undefined;

  function forget() {
    keyText.textContent = '';
    saved.checked = false;
    next.disabled = true;
    revokeDownload?.();
    revokeDownload = undefined;
    current = null;
  }

  async function copy() {
    if (!current) return;
    try {
      await navigator.clipboard.writeText(current.recoveryKey);
      showNotice(null);
      showStatus('The recovery key is copied. Paste it somewhere safe and offline, such as a password manager.');
    } catch {
      // No clipboard (an insecure origin, or a browser that refuses): select it for a manual copy.
      window.getSelection()?.selectAllChildren(keyText);
      showNotice('This browser did not let the page copy. The key is selected: copy it yourself, or download it.');
    }
  }

  function download() {
    if (!current) return;
    revokeDownload?.();
    const text = recoveryKeyFile({ email: current.email, server: window.location.origin, recoveryKey: current.recoveryKey, createdAt: Date.now() });
    revokeDownload = saveFile(new Blob([text], { type: 'text/plain;charset=utf-8' }), 'homing-recovery-key.txt');
    showStatus('The recovery key is downloaded as homing-recovery-key.txt. Keep the file somewhere safe and offline.');
  }

  async function proceed() {
    const done = current;
    if (!done || !saved.checked) return;
    forget();
    await done.onContinue();
  }

  byId('recovery-key-copy').addEventListener('click', () => void copy());
  byId('recovery-key-download').addEventListener('click', download);
  saved.addEventListener('change', () => (next.disabled = !saved.checked));
  next.addEventListener('click', () => void proceed());

  return {
    show(input: RecoveryKeyInput) {
      forget();
      current = input;
      keyText.textContent = input.recoveryKey;
      byId('recovery-key-email').textContent = input.email;
      showAuthScreen('recovery-key');
    },
    /** Leaving the page's pre-login screens (a logout, another account): the key must not linger. */
    reset: forget,
  };
}
