import type { ApiClient, AuditEntry } from '../api.js';

// `homing audit`: the account's audit log, newest first, one line an entry.

const PAGE = 500;

/** The newest `limit` entries, or with `all` every entry, page by page (the server keeps the order stable). */
export async function* auditEntries(api: ApiClient, options: { limit: number; all: boolean }): AsyncGenerator<AuditEntry> {
  let cursor: string | undefined;
  let left = options.all ? Infinity : options.limit;
  while (left > 0) {
    const page = await api.auditLog({ cursor, limit: Math.min(PAGE, left) });
    for (const entry of page.entries) yield entry;
    left -= page.entries.length;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

/** `2026-11-01 12:00:00Z  command.created  ring  Pixel 8`: time, action, detail, device (its name when known). */
export function formatAuditLine(entry: AuditEntry, deviceNames: ReadonlyMap<string, string>) {
  const time = new Date(entry.at).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  const device = entry.deviceId === null ? '' : (deviceNames.get(entry.deviceId) ?? `device ${entry.deviceId}`);
  return [time, entry.action.padEnd(26), entry.detail ?? '', device].filter((part, i) => i < 2 || part !== '').join('  ').trimEnd();
}

export async function showAudit(api: ApiClient, flags: { limit?: string; all?: boolean }) {
  const limit = flags.limit === undefined ? 50 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a whole number of entries, 1 or more');
  const names = new Map((await api.devices()).devices.map((d) => [d.id, d.name]));
  let shown = 0;
  for await (const entry of auditEntries(api, { limit, all: Boolean(flags.all) })) {
    console.log(formatAuditLine(entry, names));
    shown++;
  }
  if (shown === 0) console.log('the audit log is empty');
}
