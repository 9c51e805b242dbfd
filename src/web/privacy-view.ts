import { HomingApiError } from '../client/api.js';
import type { AccountPolicy, AuditEntry, Consents, Receipt, WebApi } from './api.js';
import { createActionDialog } from './dialogs.js';
import { dateTime, timeAgo } from './format.js';
import {
  actionName,
  auditDetail,
  checkReceipt,
  type CheckedReceipt,
  consentStateText,
  deviceLabel,
  pinReceiptKey,
  purposeHint,
  purposeName,
  receiptCounts,
  receiptScopeText,
} from './privacy-format.js';
import { byId, el, showNotice, showStatus } from './views.js';

// Consents, the privacy policy, deletion receipts and the audit log. Everything is drawn with
// textContent (el()); a purpose, an action or a detail from the server never becomes markup.

type ConsentState = Consents['consents'][number];
type FindConsent = Consents['find'][number];

export interface PrivacyContext {
  api: WebApi;
  fail(error: unknown): void;
  confirm(text: string, okLabel: string): Promise<boolean>;
  /** Find Device was switched here: the device list on the other view must follow. */
  devicesChanged(): void;
}

const AUDIT_PAGE = 25;
const PIN_PREFIX = 'homing.receipt-key:';

export function createPrivacyView(ctx: PrivacyContext) {
  const { api } = ctx;
  const storedDialog = createActionDialog('stored-dialog');
  const policyDialog = createActionDialog('policy-dialog');
  const view = {
    policy: null as AccountPolicy | null,
    audit: [] as AuditEntry[],
    auditCursor: undefined as string | undefined,
    deviceNames: new Map<string, string>(),
    pinnedKey: null as string | null,
  };

  // ── consents ─────────────────────────────────────────────────────────────────────────────────

  function consentItem(consent: ConsentState | FindConsent, onToggle: (on: boolean, input: HTMLInputElement) => void, name: string, hint: string) {
    const key = 'deviceId' in consent ? `${consent.purpose}-${consent.deviceId}` : consent.purpose;
    const id = `consent-${key.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
    const input = el('input', { type: 'checkbox', role: 'switch', id, class: 'switch', 'aria-describedby': `${id}-state` });
    input.checked = consent.granted;
    input.addEventListener('change', () => onToggle(input.checked, input));
    const state = el('span', { id: `${id}-state`, class: 'consent-state' }, consentStateText(consent));
    const item = el(
      'li',
      { class: consent.needsReacceptance ? 'consent needs-reacceptance' : 'consent', 'data-purpose': consent.purpose },
      el('label', { for: id, class: 'consent-label' }, input, el('span', { class: 'consent-name' }, name)),
      state,
    );
    if (consent.needsReacceptance) item.insertBefore(el('span', { class: 'badge badge-attention' }, 'Needs your consent again'), state);
    if (hint) item.append(el('span', { class: 'consent-hint muted' }, hint));
    return item;
  }

  function drawConsents(consents: Consents) {
    byId('consents-policy').textContent = `Under policy version ${consents.policyVersion}. Each switch takes effect at once; turning one off stops that use of your data.`;
    byId('consent-list').replaceChildren(
      ...consents.consents.map((consent) =>
        consentItem(consent, (on, input) => void toggleConsent(consent, on, input), purposeName(consent.purpose), purposeHint(consent.purpose)),
      ),
    );
    byId('find-consents-empty').hidden = consents.find.length > 0;
    byId('find-consent-list').replaceChildren(
      ...consents.find.map((consent) =>
        consentItem(consent, (on, input) => void toggleFind(consent, on, input), consent.deviceName, ''),
      ),
    );
  }

  async function loadConsents() {
    drawConsents(await api.consents());
  }

  /** Runs one change with the switch disabled; on failure the switch goes back. */
  async function change(input: HTMLInputElement, on: boolean, run: () => Promise<void>) {
    input.disabled = true;
    try {
      await run();
      // The change is in the audit log too: show it there at once.
      await Promise.all([loadConsents(), loadAudit()]);
    } catch (error) {
      input.checked = !on;
      input.disabled = false;
      ctx.fail(error);
    }
  }

  async function toggleConsent(consent: ConsentState, on: boolean, input: HTMLInputElement) {
    const name = purposeName(consent.purpose);
    if (!on && consent.purpose.startsWith('sync:')) {
      // Withdrawing a data kind asks what becomes of what is already stored: kept, or deleted with a receipt.
      byId('stored-title').textContent = `Turn off ${name.toLowerCase()}?`;
      byId('stored-text').textContent = 'Your devices stop syncing this kind of data to the server.';
      byId('stored-dialog').querySelector<HTMLInputElement>('input[value="keep"]')!.checked = true;
      let chosen = false;
      storedDialog.open(
        async (data) => {
          const stored = data.get('stored') === 'delete' ? 'delete' : 'keep';
          input.disabled = true;
          const answer = await api.setConsent(consent.purpose, { granted: false, stored });
          chosen = true;
          showStatus(stored === 'delete' ? `${name} is off; what was stored is deleted.` : `${name} is off; what is stored is kept.`);
          if (answer.receipt) await showReceipt(answer.receipt);
        },
        () => {
          if (!chosen) {
            input.checked = true;
            input.disabled = false;
            return;
          }
          void Promise.all([loadConsents(), loadReceipts(), loadAudit()]).catch(ctx.fail);
        },
      );
      return;
    }
    await change(input, on, async () => {
      await api.setConsent(consent.purpose, { granted: on });
      showStatus(`${name} is ${on ? 'on' : 'off'}.`);
    });
  }

  async function toggleFind(consent: FindConsent, on: boolean, input: HTMLInputElement) {
    if (
      !on &&
      !(await ctx.confirm(`Turn off Find Device for ${consent.deviceName}? The server deletes its stored locations and cancels its pending commands.`, 'Turn off'))
    ) {
      input.checked = true;
      return;
    }
    await change(input, on, async () => {
      await api.setConsent('find', { granted: on, deviceId: consent.deviceId });
      showStatus(`Find Device is ${on ? 'on' : 'off'} for ${consent.deviceName}.`);
      ctx.devicesChanged();
    });
  }

  // ── receipts ─────────────────────────────────────────────────────────────────────────────────

  function storedPin(): string | null {
    try {
      return window.localStorage.getItem(PIN_PREFIX + window.location.origin);
    } catch {
      return view.pinnedKey;
    }
  }

  async function loadPinnedKey() {
    const { publicKey } = await api.receiptKey();
    const { pinned, changed } = pinReceiptKey(storedPin() ?? view.pinnedKey, publicKey);
    view.pinnedKey = pinned;
    try {
      window.localStorage.setItem(PIN_PREFIX + window.location.origin, pinned);
    } catch {
      // Storage is off: the key stays pinned for this page's life only.
    }
    const line = byId('receipt-key');
    line.classList.toggle('warning', changed);
    line.textContent = changed
      ? `Warning: the server now signs with a different key (${publicKey.slice(0, 12)}…) than the one this browser pinned (${pinned.slice(0, 12)}…). Receipts signed with the new key are not shown as verified.`
      : `Receipts are checked in this page against the server key this browser pinned when it first saw it: ${pinned.slice(0, 12)}…`;
  }

  function receiptItem(checked: CheckedReceipt) {
    if (!checked.verified) {
      return el('li', { class: 'receipt', 'data-verified': 'false' }, el('span', { class: 'badge badge-failed' }, 'Not verified'), ` Receipt ${checked.id}: ${checked.problem}`);
    }
    const { payload } = checked;
    return el(
      'li',
      { class: 'receipt', 'data-verified': 'true', 'data-receipt-id': checked.id },
      el('span', { class: 'badge badge-succeeded' }, 'Verified'),
      ' ',
      el('strong', {}, receiptScopeText(payload.scope)),
      ` · ${receiptCounts(payload.counts)} · deleted ${dateTime(payload.completedAt)}`,
      el('span', { class: 'receipt-id muted' }, `Receipt ${payload.receiptId}, signed by ${payload.server}`),
    );
  }

  async function loadReceipts() {
    await loadPinnedKey();
    const { receipts } = await api.receipts();
    byId('receipts-empty').hidden = receipts.length > 0;
    byId('receipt-list').replaceChildren(...receipts.map((r) => receiptItem(checkReceipt(r, view.pinnedKey))));
  }

  async function showReceipt(receipt: Receipt) {
    if (!view.pinnedKey) await loadPinnedKey();
    const box = byId('last-receipt');
    box.replaceChildren(el('h4', {}, 'Deletion receipt'), el('ul', { class: 'plain-list' }, receiptItem(checkReceipt(receipt, view.pinnedKey))));
    box.hidden = false;
  }

  // ── policy ───────────────────────────────────────────────────────────────────────────────────

  function drawPolicy(policy: AccountPolicy) {
    view.policy = policy;
    const accepted = policy.acceptedVersion === 0 ? 'You have not accepted a version yet.' : `You accepted version ${policy.acceptedVersion}${policy.acceptedAt ? ` on ${dateTime(policy.acceptedAt)}` : ''}.`;
    byId('policy-summary').textContent = `Version ${policy.currentVersion} is in force, published ${dateTime(policy.publishedAt)}. ${accepted}`;
    const banner = byId('policy-banner');
    banner.hidden = !policy.noticePending;
    byId('policy-banner-text').textContent = policy.noticePending
      ? `Version ${policy.currentVersion} was published on ${dateTime(policy.publishedAt)}.${policy.reducesRights ? ' It changes your rights: consents you gave under an earlier version stay off until you agree to them again.' : ''} Read it, then accept it to hide this notice.`
      : '';
    byId('policy-banner-accept').textContent = `Accept version ${policy.currentVersion}`;
  }

  async function loadPolicy() {
    drawPolicy(await api.accountPolicy());
  }

  async function accept() {
    const policy = view.policy;
    if (!policy) return;
    await api.acceptPolicy(policy.currentVersion);
    showStatus(`You accepted version ${policy.currentVersion} of the privacy policy.`);
    await Promise.all([loadPolicy(), byId('privacy-view').hidden ? undefined : loadConsents()]);
  }

  async function readPolicy() {
    const policy = await api.policy();
    byId('policy-dialog-title').textContent = `Privacy policy, version ${policy.version}`;
    byId('policy-dialog-meta').textContent = `Published ${dateTime(policy.publishedAt)} · SHA-256 ${policy.sha256.slice(0, 16)}…`;
    // One paragraph a line, as plain text; a line of "=" is a section break.
    const lines = policy.text.split(/\r?\n/).filter((line) => line.trim() !== '');
    byId('policy-text').replaceChildren(...lines.map((line) => (/^=+$/.test(line.trim()) ? el('hr') : el('p', {}, line))));
    const acceptButton = byId('policy-dialog-accept');
    const pending = view.policy?.noticePending === true && view.policy.currentVersion === policy.version;
    acceptButton.hidden = !pending;
    acceptButton.textContent = `Accept version ${policy.version}`;
    policyDialog.open(async () => {
      if (pending) await accept();
    });
  }

  // ── audit log ────────────────────────────────────────────────────────────────────────────────

  function auditItem(entry: AuditEntry, now: number) {
    const detail = auditDetail(entry.action, entry.detail);
    const device = deviceLabel(entry.deviceId, view.deviceNames);
    return el(
      'li',
      { class: entry.action === 'login.failed' ? 'audit-entry audit-warning' : 'audit-entry', 'data-action': entry.action },
      el('span', { class: 'audit-action' }, actionName(entry.action)),
      // Spaces between the parts, so that screen readers and copied text do not run them together.
      ...(detail ? [' ', el('span', { class: 'audit-detail' }, detail)] : []),
      ...(device ? [' ', el('span', { class: 'audit-device muted' }, device)] : []),
      ' ',
      el('time', { datetime: new Date(entry.at).toISOString(), title: dateTime(entry.at) }, `${dateTime(entry.at)} (${timeAgo(entry.at, now)})`),
    );
  }

  function drawAudit() {
    const now = Date.now();
    byId('audit-empty').hidden = view.audit.length > 0;
    byId('audit-list').replaceChildren(...view.audit.map((entry) => auditItem(entry, now)));
    byId('audit-more').hidden = view.auditCursor === undefined;
  }

  async function loadAudit(more = false) {
    if (!more) {
      view.audit = [];
      view.auditCursor = undefined;
      const { devices } = await api.devices();
      view.deviceNames = new Map(devices.map((d) => [d.id, d.name]));
    }
    try {
      const page = await api.auditLog(more ? view.auditCursor : undefined, AUDIT_PAGE);
      view.audit = more ? [...view.audit, ...page.entries] : page.entries;
      view.auditCursor = page.nextCursor;
    } catch (error) {
      // Entries older than the cursor were removed meanwhile (retention): start again from the newest.
      if (more && error instanceof HomingApiError && error.code === 'cursor_expired') {
        showNotice('The log changed while you read it; it starts again from the newest entry.');
        return loadAudit(false);
      }
      throw error;
    }
    drawAudit();
  }

  async function showMore() {
    const button = byId<HTMLButtonElement>('audit-more');
    const shown = view.audit.length;
    button.disabled = true;
    try {
      await loadAudit(true);
      // Keyboard users land on the first new entry rather than at the top of the list.
      const first = byId('audit-list').children[shown] as HTMLElement | undefined;
      if (first) {
        first.tabIndex = -1;
        first.focus();
      }
    } catch (error) {
      ctx.fail(error);
    } finally {
      button.disabled = false;
    }
  }

  byId('policy-read').addEventListener('click', () => void readPolicy().catch(ctx.fail));
  byId('policy-banner-read').addEventListener('click', () => void readPolicy().catch(ctx.fail));
  byId('policy-banner-accept').addEventListener('click', () => void accept().catch(ctx.fail));
  byId('audit-more').addEventListener('click', () => void showMore());

  return {
    /** On login: only what shows on every view (the policy notice). */
    loadNotices: () => loadPolicy(),
    /** When the view opens: everything, fresh. */
    load: () => Promise.all([loadConsents(), loadPolicy(), loadReceipts(), loadAudit()]),
    reloadReceipts: () => loadReceipts(),
    reset() {
      Object.assign(view, { policy: null, audit: [], auditCursor: undefined, deviceNames: new Map() });
      for (const id of ['consent-list', 'find-consent-list', 'receipt-list', 'audit-list', 'last-receipt']) byId(id).replaceChildren();
      byId('last-receipt').hidden = true;
      byId('policy-banner').hidden = true;
    },
  };
}
