import type { SessionSummary, WebApi } from './api.js';
import { sessionFacts } from './account-format.js';
import { byId, el, showNotice, showStatus } from './views.js';

// Where the account is logged in: every session, this browser marked, and signing one or all the
// others out. Revoking deletes the session's row on the server, so its token stops working on
// its very next request.

export interface SessionsContext {
  api: WebApi;
  fail(error: unknown): void;
  confirm(text: string, okLabel: string): Promise<boolean>;
}

export function createSessionsView(ctx: SessionsContext) {
  const { api } = ctx;
  const list = byId('session-list');
  const revokeOthers = byId<HTMLButtonElement>('revoke-others');

  function item(session: SessionSummary, now: number, deviceNames: Map<string, string>) {
    const facts = sessionFacts(session, now, session.deviceId ? deviceNames.get(session.deviceId) : undefined);
    const head = el('span', { class: 'session-title' }, facts.title);
    const entry = el('li', { class: session.current ? 'session current' : 'session', 'data-session-id': session.id }, head);
    if (session.current) head.append(' ', el('span', { class: 'badge badge-current' }, 'this browser'));
    entry.append(el('span', { class: 'session-kind muted' }, facts.kind), el('span', { class: 'session-times muted' }, facts.times));
    if (!session.current) {
      const button = el('button', { type: 'button', class: 'secondary', 'aria-label': `Sign out ${facts.title} (${facts.kind})` }, 'Sign out');
      button.addEventListener('click', () => void revoke(session, facts.title, button));
      entry.append(button);
    }
    return entry;
  }

  async function load() {
    const [{ sessions }, { devices }] = await Promise.all([api.sessions(), api.devices()]);
    const names = new Map(devices.map((device) => [device.id, device.name]));
    const now = Date.now();
    // This browser first, then the most recently used.
    const ordered = [...sessions].sort((a, b) => Number(b.current) - Number(a.current) || b.lastUsedAt - a.lastUsedAt);
    list.replaceChildren(...ordered.map((session) => item(session, now, names)));
    revokeOthers.hidden = !sessions.some((session) => !session.current);
  }

  async function revoke(session: SessionSummary, title: string, button: HTMLButtonElement) {
    if (!(await ctx.confirm(`Sign out "${title}"? It must log in again to reach your account.`, 'Sign out'))) return;
    button.disabled = true;
    try {
      await api.revokeSession(session.id);
      showNotice(null);
      showStatus(`"${title}" is signed out.`);
      await load();
    } catch (error) {
      button.disabled = false;
      ctx.fail(error);
    }
    byId('sessions-title').focus();
  }

  async function revokeAllOthers() {
    if (!(await ctx.confirm('Sign out every other session? Every other browser, app and device CLI must log in again. This browser stays logged in.', 'Sign out the others'))) return;
    revokeOthers.disabled = true;
    try {
      const { revoked } = await api.revokeOtherSessions();
      showNotice(null);
      showStatus(revoked === 1 ? '1 other session is signed out.' : `${revoked} other sessions are signed out.`);
      await load();
    } catch (error) {
      ctx.fail(error);
    } finally {
      revokeOthers.disabled = false;
    }
    byId('sessions-title').focus();
  }

  revokeOthers.addEventListener('click', () => void revokeAllOthers());

  return {
    load,
    reset: () => list.replaceChildren(),
  };
}
