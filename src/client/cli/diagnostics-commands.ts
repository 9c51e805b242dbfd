import type { ApiClient } from '../api.js';
import { table } from './format.js';

// Crash reports and usage events: the CLI lists and deletes the account's own, and can send a
// sample report as a phone would (which the server takes only once the matching consent is on).

export interface DiagnosticsFlags {
  kind?: string;
  message?: string;
  limit?: string;
  all?: boolean;
}

const KINDS = ['crash', 'usage'] as const;

export async function runDiagnosticsCommand(api: ApiClient, action: string | undefined, flags: DiagnosticsFlags) {
  switch (action ?? 'list') {
    case 'list':
      return listReports(api, flags);
    case 'send':
      return sendReport(api, flags);
    case 'delete': {
      const { deleted, receipt } = await api.deleteDiagnostics();
      console.log(`deleted ${deleted} report${deleted === 1 ? '' : 's'}; receipt ${receipt.id}`);
      return;
    }
    default:
      throw new Error('diagnostics takes list, send or delete');
  }
}

async function listReports(api: ApiClient, flags: DiagnosticsFlags) {
  const limit = flags.limit ? Number(flags.limit) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new Error('--limit must be 1 to 200');
  const rows: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await api.diagnostics({ cursor, limit });
    for (const r of page.reports) {
      rows.push([new Date(r.receivedAt).toISOString(), r.kind, r.appVersion ?? '-', r.deviceId ?? 'web page', `${r.size} B`, r.id]);
    }
    cursor = page.cursor ?? undefined;
  } while (flags.all && cursor);
  if (rows.length === 0) {
    console.log('no crash reports or usage events are stored for this account');
    return;
  }
  console.log(table(['received', 'kind', 'app', 'from', 'size', 'id'], rows));
  if (cursor) console.log('(older reports: add --all)');
}

/** Sends a sample report from this device, as a phone's crash handler would. */
async function sendReport(api: ApiClient, flags: DiagnosticsFlags) {
  const kind = (flags.kind ?? 'crash') as (typeof KINDS)[number];
  if (!KINDS.includes(kind)) throw new Error('--kind must be crash or usage');
  const report =
    kind === 'crash'
      ? { error: flags.message ?? 'sample crash from the device CLI', frames: [{ fn: 'main', line: 1 }] }
      : { events: [{ name: flags.message ?? 'cli.sample', count: 1 }] };
  const accepted = await api.sendDeviceDiagnostics({ kind, appVersion: 'cli', report });
  console.log(`${kind} report stored (${accepted.size} bytes, id ${accepted.id})`);
}
