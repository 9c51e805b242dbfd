import type { ApiClient, Consents } from '../api.js';
import { table } from './format.js';

// `homing consents`, `homing consent <purpose> on|off`, `homing policy`: the account's choices
// and the privacy policy they were made under.

export interface ConsentFlags {
  keep?: boolean;
  delete?: boolean;
  device?: string;
  accept?: boolean;
  regrant?: string;
  text?: boolean;
}

const when = (at: number | null) => (at === null ? '' : new Date(at).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'));

const stateOf = (c: { granted: boolean; needsReacceptance: boolean; isDefault: boolean }) =>
  c.needsReacceptance ? 'off (accept the new policy)' : `${c.granted ? 'on' : 'off'}${c.isDefault ? ' (default)' : ''}`;

export function formatConsents(consents: Consents) {
  const rows = [
    ...consents.consents.map((c) => [c.purpose, stateOf(c), String(c.policyVersion), when(c.since)]),
    ...consents.find.map((f) => [`find (${f.deviceName}, ${f.deviceId})`, stateOf(f), String(f.policyVersion), when(f.since)]),
  ];
  return `${table(['purpose', 'state', 'policy', 'since'], rows)}\npolicy in force: version ${consents.policyVersion}`;
}

export async function showConsents(api: ApiClient) {
  console.log(formatConsents(await api.consents()));
}

/** `consent sync:photos off --delete`, `consent experience on`, `consent find on --device ID`. */
export async function changeConsent(api: ApiClient, purpose: string | undefined, value: string | undefined, flags: ConsentFlags) {
  if (!purpose || (value !== 'on' && value !== 'off')) throw new Error('say which purpose and on or off: consent sync:photos off --keep');
  if (flags.keep && flags.delete) throw new Error('say --keep or --delete, not both');
  const granted = value === 'on';
  const stored = flags.delete ? 'delete' : flags.keep ? 'keep' : undefined;
  if (purpose.startsWith('sync:') && !granted && !stored) {
    throw new Error(`turning ${purpose} off: say --keep (what is stored stays) or --delete (deleted now, with a receipt)`);
  }
  const result = await api.setConsent(purpose, { granted, stored, deviceId: flags.device });
  console.log(`${purpose}${flags.device ? ` (${flags.device})` : ''} is ${stateOf(result.consent)}`);
  if (result.receipt) console.log(`stored data deleted; receipt ${result.receipt.id} (GET /v1/receipts/${result.receipt.id})`);
}

/** `policy` shows where the account stands; `--accept` accepts the version in force, `--regrant a,b|all` grants those again. */
export async function runPolicy(api: ApiClient, flags: ConsentFlags) {
  const [policy, status] = await Promise.all([api.policy(), api.accountPolicy()]);
  if (flags.text) console.log(`${policy.text}\n`);
  console.log(`privacy policy version ${policy.version}${policy.reducesRights ? ' (reduces rights)' : ''}, published ${when(policy.publishedAt)}, sha256 ${policy.sha256}`);
  console.log(`you accepted version ${status.acceptedVersion || 'none'}${status.noticePending ? ': a newer version waits for you (policy --accept)' : ''}`);
  if (!flags.accept) {
    if (flags.regrant) throw new Error('--regrant goes with --accept');
    const waiting = (await api.consents()).consents.filter((c) => c.needsReacceptance).map((c) => c.purpose);
    if (waiting.length) console.log(`off until you accept and grant them again: ${waiting.join(', ')} (policy --accept --regrant all)`);
    return;
  }
  const before = await api.consents();
  const waiting = [...before.consents, ...before.find].filter((c) => c.needsReacceptance).map((c) => c.purpose);
  const regrant = flags.regrant === 'all' ? [...new Set(waiting)] : (flags.regrant?.split(',').map((p) => p.trim()).filter(Boolean) ?? []);
  const after = await api.acceptPolicy(policy.version, regrant);
  console.log(`accepted version ${policy.version}${regrant.length ? `; granted again: ${regrant.join(', ')}` : ''}`);
  console.log(formatConsents(after));
}
