import { createHash, randomBytes } from 'node:crypto';
import type { ApiClient } from '../api.js';
import { toBase64Url } from '../../protocol/encoding.js';
import type { CliState } from './state.js';

// A SIM change as the phone would report it. The CLI invents a SIM identifier (a phone would
// read the ICCID) and hashes it before it leaves the device, as a phone must.

export interface SimFlags {
  event?: string;
  number?: string;
  carrier?: string;
  inbound?: boolean;
  code?: string;
}

export async function reportSim(api: ApiClient, state: CliState, flags: SimFlags) {
  const kind = flags.event ?? 'replaced';
  if (!['inserted', 'replaced', 'removed'].includes(kind)) throw new Error('--event must be inserted, replaced or removed');
  const iccid = `8944${randomBytes(8).readBigUInt64BE().toString().padStart(15, '0').slice(0, 15)}`;
  const method = kind === 'removed' ? undefined : flags.inbound ? 'inbound' : 'outbound';
  if (method === 'outbound' && !flags.number) throw new Error('--number is required (the number the new SIM claims), or use --inbound');
  const eventId = toBase64Url(randomBytes(16));
  const result = await api.reportSimEvent({
    eventId,
    kind: kind as 'inserted' | 'replaced' | 'removed',
    simIdHash: toBase64Url(createHash('sha256').update(iccid).digest()),
    carrier: flags.carrier,
    claimedNumber: method === 'outbound' ? flags.number : undefined,
    method,
  });
  if (result.inbound) {
    console.log(`SIM ${kind}: text "${result.inbound.token}" from this phone to ${result.inbound.sendTo} within 10 minutes`);
  } else if (method === 'outbound') {
    console.log(`SIM ${kind}: a code was texted to ${flags.number}; run \`sim-verify --code NNNNNN\``);
    console.log('(on the embedded default the SMS is in the outbox file, data/sms-outbox.jsonl)');
  } else {
    console.log(`SIM ${kind}: recorded`);
  }
  return { simEventId: eventId };
}

export async function verifySim(api: ApiClient, state: CliState, flags: SimFlags) {
  if (!state.simEventId) throw new Error('no SIM verification is waiting: run `sim --number …` first');
  if (!flags.code) throw new Error('--code is required');
  const result = await api.verifySimCode(state.simEventId, flags.code);
  console.log(`SIM number ${result.status}; the owner can see it in the device's SIM history`);
}
