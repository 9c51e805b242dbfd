import type { ApiClient } from '../api.js';
import { emptyBlocklist, matchSpam, refreshBlocklist } from '../spam.js';
import { formatMinute as time, table } from './format.js';
import { requireDevice } from './messages-commands.js';
import type { CliState } from './state.js';

// Report Spam: a report names a number and, only when the user gives it, the message's text (the
// server keeps its fingerprint). Checking a message is done here: the CLI downloads the published
// blocklist (the changes since the version it holds) and matches the number and text locally, so
// no message that was not reported leaves the device.

export interface SpamFlags {
  number?: string;
  id?: string;
}

/** `spam report|reports|withdraw|check`: returns what to save. */
export async function runSpamCommand(api: ApiClient, state: CliState, sub: string | undefined, flags: SpamFlags, text: string | undefined): Promise<Partial<CliState>> {
  requireDevice(state);
  switch (sub) {
    case 'report': {
      if (!flags.number) throw new Error('--number is required: the number the spam came from');
      const report = await api.reportSpam({ number: flags.number, text: text || undefined });
      const withText = report.fingerprint ? "; the server keeps the text's fingerprint, not the text" : text ? '; the text was too short to fingerprint' : '';
      console.log(`reported ${report.number} as spam (report ${report.id})${withText}`);
      return {};
    }
    case 'reports': {
      const { reports } = await api.spamReports();
      if (reports.length === 0) console.log('no spam reports from this account');
      else console.log(table(['id', 'number', 'text fingerprint', 'reported'], reports.map((r) => [r.id, r.number, r.fingerprint ?? '-', time(r.createdAt)])));
      return {};
    }
    case 'withdraw': {
      if (!flags.id) throw new Error('--id is required: the report id `spam reports` lists');
      await api.withdrawSpamReport(flags.id);
      console.log(`withdrew spam report ${flags.id}`);
      return {};
    }
    case 'check': {
      if (!flags.number && !text) throw new Error('say what to check: --number N and/or --text "…"');
      const cache = await refreshBlocklist(api, state.spamBlocklist ?? emptyBlocklist());
      const match = matchSpam(cache, { number: flags.number, text: text || undefined });
      // A verdict either way is an answer, not an error: both exit 0.
      if (match.byNumber) console.log('spam (number listed)');
      if (match.byText) console.log('spam (text matches a reported message)');
      if (!match.spam) console.log('not on the blocklist');
      return { spamBlocklist: cache };
    }
    default:
      throw new Error(`unknown spam command "${sub ?? ''}": say report, reports, withdraw or check`);
  }
}
