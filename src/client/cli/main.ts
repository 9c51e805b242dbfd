#!/usr/bin/env node
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { logIn, MIN_PASSWORD_LENGTH, signUp } from '../account.js';
import { createApiClient, HomingApiError } from '../api.js';
import { INTERACTIVE_KDF } from '../crypto/kdf.js';
import { toBase64Url } from '../../protocol/encoding.js';
import { joinOptionValues } from './args.js';
import { closePrompts, readSecret } from './prompt.js';
import { type CliState, defaultStatePath, loadState, saveState } from './state.js';
import { formatAge, table } from './format.js';
import { runSyncCommand } from './sync-commands.js';
import { pollCommands, reportLocation, setFind } from './find-commands.js';
import { sendOwnerCommand } from './owner-commands.js';
import { reportSim, verifySim } from './sim-commands.js';
import { runAccountCommand } from './account-commands.js';
import { askBirthYear, askGuardian, deleteChild, waitForGuardian } from './guardian-commands.js';
import { runDiagnosticsCommand } from './diagnostics-commands.js';
import { runExport, runOpen } from './export-commands.js';
import { showAudit } from './audit-commands.js';
import { changeConsent, runPolicy, showConsents } from './consent-commands.js';
import { listReceipts, runDelete, runReceipt } from './deletion-commands.js';
import { block, listBlocks, runMessagesCommand, sendMessage, showInbox, unblock } from './messages-commands.js';
import { runSpamCommand } from './spam-commands.js';

const USAGE = `homing device CLI — stands in for a phone against a homing server

usage: npm run device -- <command> [options]

commands:
  signup   --email E [--phone +447700900123] [--birth-year YYYY] [--guardian-email G | --guardian-phone N] [--code C]
                                               create an account (prints the recovery key once); under 14,
                                               waits for the code sent to the parent or guardian
  guardian delete-child CHILD_EMAIL --guardian-email G | --guardian-phone N [--code C]
                                               as a guardian: have a child's account deleted (a code confirms)
  login    --email E [--label L]               log in; the session is saved in the state file
  register --name N [--model M] [--platform android|ios|other]
                                               register this machine as a device
  devices                                      list the account's devices
  whoami                                       show the device this CLI is registered as
  remove   --device ID                         remove a device (its token stops working)
  find     --on | --off                        turn Find Device on or off for this device
  locate   --lat N --lon N [--accuracy M]      report where this device is (sealed to the account key)
  locate   --walk STEPS [--lat N --lon N]      report a simulated walk, as a batch queued while offline
  poll     [--wait SECONDS] [--once]           wait for signed commands, verify, carry out and acknowledge
  poll     --push [--wait SECONDS] [--once]    the same, woken by Web Push: listens on 127.0.0.1 as its own push endpoint,
                                               polls when a push arrives or every SECONDS (falls back to long-poll)
                                               (rides out network errors and server restarts)
  command  ring|stop-ring|lock|unlock|locate|wipe --device ID [--expires 7d] [--message M --callback N]
                                               as the owner: sign a command for a device and send it
  sim      --event inserted|replaced|removed --number +44… [--carrier NAME] [--inbound]
                                               report a SIM change; a code is texted to the new number
  sim-verify --code NNNNNN                     submit the texted code
  messages on --number +44… | off | status     turn messaging on for a number this device verified (sim, sim-verify);
                                               its secret keys stay in the state file; off forgets them
  send     --to +44… --text "…"                seal, sign and send a message to every device of that number
  inbox                                        fetch, verify, open and acknowledge messages (each shown once)
  block    --number +44… | unblock --number +44… | blocks
                                               messages from a blocked number are dropped; its sender is not told
  spam     report --number +44… [--text "…"]   report a number as spam; the message's text is sent only if given
  spam     reports | withdraw --id ID          this account's reports; take one back
  spam     check [--number +44…] [--text "…"]  download the blocklist's changes and match here, on the device;
                                               prints "spam (…)" or "not on the blocklist", exit 0 either way
  backup   --dir FOLDER                        encrypt and upload new or changed files
                                               (.vcf contacts, .md/.txt notes, images photos, …)
  restore  --dir FOLDER                        download and decrypt every backed-up file into FOLDER
                                               (lists any it cannot restore, e.g. an unsafe name, and exits 1)
  audit    [--limit N] [--all]                 the account's audit log, newest first (default the newest 50)
  export   [--out FILE.zip]                    download everything the account has as one ZIP (asks for the
                                               password unless this session proved it in the last minutes)
  open     FILE.zip --dir FOLDER               offline: check an export against its manifest, decrypt it with the
                                               password and write plain files (vCards, notes, photos, GPX…)
  diagnostics [list] [--limit N] [--all]      the account's crash reports and usage events, newest first
  diagnostics send [--kind crash|usage] [--message M]
                                               send a sample report from this device (needs the consent on)
  diagnostics delete                           delete every report of the account (prints the receipt id)
  consents                                     what the account consents to, per purpose and per device
  consent  PURPOSE on|off [--keep|--delete] [--device ID]
                                               grant or withdraw one (sync:<kind>, find, sim_sms, experience,
                                               diagnostics); a data kind off needs --keep or --delete
  policy   [--text] [--accept [--regrant P,Q|all]]
                                               the privacy policy and the version accepted; accept the one in force
  account                                      the e-mail address and phone number the server holds
  account  email NEW                           change the e-mail: asks for the password, then the code sent to NEW
  account  phone NEW | --remove                change the phone number (a code is texted to NEW) or remove it
  delete   item|collection|kind|device ID [--out FILE]
                                               delete now (no trash), e.g. 'delete kind photos'; prints the signed receipt
  delete   account | account --cancel          schedule the whole account's deletion (asks for the password,
                                               shows the due date) or cancel it before then
  receipts                                     the account's deletion receipts, each verified against the pinned key
  receipt  get ID [--out FILE] | verify FILE.json
                                               fetch a receipt (also after the account is gone); verify one offline
  logout                                       end the saved session

options:
  --server URL     homing server (default: $HOMING_URL, the saved one, or http://localhost:8787)
  --state FILE     where tokens are kept (default: $HOMING_CLI_STATE or ~/.config/homing/cli.json)
  --kdf-ops N --kdf-mem BYTES   Argon2id cost for signup (default 2 and 64 MiB)

The password is read from $HOMING_PASSWORD, a hidden prompt, or the first line of stdin;
backup and restore ask for it each time, so the master key is never written to disk.`;

const OPTIONS = {
  server: { type: 'string' },
  state: { type: 'string' },
  email: { type: 'string' },
  phone: { type: 'string' },
  label: { type: 'string' },
  name: { type: 'string' },
  model: { type: 'string' },
  platform: { type: 'string' },
  device: { type: 'string' },
  dir: { type: 'string' },
  on: { type: 'boolean' },
  off: { type: 'boolean' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  accuracy: { type: 'string' },
  walk: { type: 'string' },
  wait: { type: 'string' },
  once: { type: 'boolean' },
  push: { type: 'boolean' },
  event: { type: 'string' },
  number: { type: 'string' },
  carrier: { type: 'string' },
  inbound: { type: 'boolean' },
  code: { type: 'string' },
  expires: { type: 'string' },
  message: { type: 'string' },
  callback: { type: 'string' },
  out: { type: 'string' },
  'birth-year': { type: 'string' },
  'guardian-email': { type: 'string' },
  'guardian-phone': { type: 'string' },
  'kdf-ops': { type: 'string' },
  'kdf-mem': { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  kind: { type: 'string' },
  keep: { type: 'boolean' },
  delete: { type: 'boolean' },
  accept: { type: 'boolean' },
  regrant: { type: 'string' },
  text: { type: 'boolean' },
  remove: { type: 'boolean' },
  cancel: { type: 'boolean' },
  key: { type: 'string' },
  to: { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `policy --text` is a switch; `send` and `spam` take the message itself as `--text "…"`. */
const TEXT_VALUE_COMMANDS = ['send', 'spam'];
const TEXT_VALUE_OPTIONS = { ...OPTIONS, text: { type: 'string' } } as const;

/** The command word, found before the real parse because it decides what --text is. */
const commandOf = (args: string[]) => parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: false }).positionals[0];

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

const required = (flags: Flags, name: keyof Flags) => {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
};

async function run(argv: string[]) {
  // Values may start with "-": `--lat -33.9`, `--id -Qx…` (see joinOptionValues).
  const options = TEXT_VALUE_COMMANDS.includes(commandOf(argv) ?? '') ? TEXT_VALUE_OPTIONS : OPTIONS;
  const args = joinOptionValues(argv, options);
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
  const { text, ...rest } = values;
  const flags: Flags = { ...rest, text: text === true };
  const messageText = typeof text === 'string' ? text : undefined;
  const command = positionals[0];
  if (flags.help || !command) {
    console.log(USAGE);
    return;
  }
  const statePath = flags.state ?? defaultStatePath();
  const state = loadState(statePath);
  const server = flags.server ?? process.env.HOMING_URL ?? state.server ?? 'http://localhost:8787';
  const save = (changes: Partial<CliState>) => saveState(statePath, Object.assign(state, { server }, changes));
  const api = createApiClient({ baseUrl: server, sessionToken: state.sessionToken, deviceToken: state.deviceToken });
  const needSession = () => {
    if (!state.sessionToken) throw new UsageError('not logged in: run `login --email …` first');
  };

  switch (command) {
    case 'signup': {
      const email = required(flags, 'email');
      const password = await readSecret('Choose a password', 'HOMING_PASSWORD');
      if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`choose a password of at least ${MIN_PASSWORD_LENGTH} characters`);
      const kdf = {
        opsLimit: flags['kdf-ops'] ? Number(flags['kdf-ops']) : INTERACTIVE_KDF.opsLimit,
        memLimit: flags['kdf-mem'] ? Number(flags['kdf-mem']) : INTERACTIVE_KDF.memLimit,
      };
      const birthYear = await askBirthYear(flags);
      const guardian = await askGuardian(flags, birthYear);
      const { accountId, recoveryKey, pending } = await signUp(api, { email, password, phoneNumber: flags.phone, birthYear, guardian, kdf });
      if (pending) await waitForGuardian(api, pending, flags);
      closePrompts();
      save({ email, accountId });
      console.log(`account created: ${accountId}`);
      console.log('\nRecovery key (shown once; write it down and keep it offline):\n');
      console.log(`  ${recoveryKey}\n`);
      console.log('It is the only way back into your data if you forget the password.');
      return;
    }
    case 'login': {
      const email = required(flags, 'email');
      const password = await readSecret('Password', 'HOMING_PASSWORD');
      // On a registered phone the session is bound to it, so removing the device ends it too.
      const deviceToken = state.email === email ? state.deviceToken : undefined;
      // Kept from the last login: lets this device in while strangers exhaust the account's login limit.
      const trustedClient = state.email === email ? state.trustedClient : undefined;
      const { response } = await logIn(api, { email, password, label: flags.label ?? 'device CLI', deviceToken, trustedClient });
      save({
        email,
        accountId: response.accountId,
        sessionToken: response.session.token,
        trustedClient: response.trustedClient ?? trustedClient,
      });
      console.log(`logged in to ${server} as ${email} (session ${response.session.id})`);
      return;
    }
    case 'register': {
      needSession();
      const platform = flags.platform ?? 'other';
      if (!['android', 'ios', 'other'].includes(platform)) throw new UsageError('--platform must be android, ios or other');
      // A phone hashes its hardware id; the CLI invents one per state file and keeps it.
      const hardwareId = state.hardwareId ?? randomUUID();
      const identifierHash = toBase64Url(createHash('sha256').update(hardwareId).digest());
      const { device, token } = await api.registerDevice({
        name: required(flags, 'name'),
        model: flags.model ?? 'homing device CLI',
        platform: platform as 'android' | 'ios' | 'other',
        identifierHash,
      });
      const keys = await api.keyBundle();
      save({
        hardwareId,
        deviceId: device.id,
        deviceToken: token,
        x25519PublicKey: keys.x25519PublicKey,
        ed25519PublicKey: keys.ed25519PublicKey,
        commandCounter: 0,
      });
      console.log(`registered device ${device.name} (${device.id})`);
      return;
    }
    case 'devices': {
      needSession();
      const { devices } = await api.devices();
      if (devices.length === 0) {
        console.log('no devices yet: run `register --name …`');
        return;
      }
      console.log(
        table(
          ['id', 'name', 'model', 'platform', 'last seen'],
          devices.map((d) => [
            d.id,
            d.name + (d.id === state.deviceId ? ' (this one)' : ''),
            d.model,
            d.platform,
            d.lastSeenAt ? formatAge(Date.now() - d.lastSeenAt) : 'never',
          ]),
        ),
      );
      return;
    }
    case 'whoami': {
      const device = await api.thisDevice();
      console.log(`this is device ${device.name} (${device.id}), ${device.platform}, ${device.model}`);
      if (device.lostMode) console.log(`in Lost Mode since ${new Date(device.lostMode.since).toISOString()}`);
      return;
    }
    case 'remove': {
      needSession();
      const id = required(flags, 'device');
      await api.removeDevice(id);
      console.log(`removed device ${id}`);
      if (id === state.deviceId) {
        // The server ended this CLI's session with the device it was bound to.
        save({ deviceId: undefined, deviceToken: undefined, sessionToken: undefined });
        console.log('this was this device: its token and this session ended with it; log in again to go on');
      }
      return;
    }
    case 'backup':
    case 'restore': {
      needSession();
      await runSyncCommand(command, api, { accountId: state.accountId!, statePath, dir: required(flags, 'dir') });
      return;
    }
    case 'find': {
      if (flags.on === flags.off) throw new UsageError('say --on or --off');
      await setFind(api, Boolean(flags.on));
      return;
    }
    case 'locate':
      save(await reportLocation(api, state, flags));
      return;
    case 'poll':
      await pollCommands(api, state, flags, save);
      return;
    case 'command':
      needSession();
      await sendOwnerCommand(api, state, positionals[1], flags);
      return;
    case 'sim':
      save(await reportSim(api, state, flags));
      return;
    case 'sim-verify':
      await verifySim(api, state, flags);
      save({ simEventId: undefined });
      return;
    case 'audit':
      needSession();
      await showAudit(api, flags);
      return;
    case 'export':
      needSession();
      await runExport(api, { email: state.email!, out: flags.out });
      return;
    case 'open': {
      const file = positionals[1];
      if (!file) throw new UsageError('say which archive: open FILE.zip --dir FOLDER');
      await runOpen({ file, dir: required(flags, 'dir') });
      return;
    }
    case 'diagnostics':
      if (positionals[1] !== 'send') needSession();
      await runDiagnosticsCommand(api, positionals[1], flags);
      return;
    case 'guardian':
      if (positionals[1] !== 'delete-child') throw new UsageError('guardian commands: delete-child CHILD_EMAIL --guardian-email G');
      await deleteChild(api, positionals[2], flags);
      closePrompts();
      return;
    case 'consents':
      needSession();
      await showConsents(api);
      return;
    case 'consent':
      needSession();
      await changeConsent(api, positionals[1], positionals[2], flags);
      return;
    case 'policy':
      needSession();
      await runPolicy(api, flags);
      return;
    case 'account':
      needSession();
      save(await runAccountCommand(api, { sub: positionals[1], value: positionals[2] }, flags));
      return;
    case 'delete':
      needSession();
      save(await runDelete(api, state, positionals[1], positionals[2], flags));
      return;
    case 'receipts':
      needSession();
      save(await listReceipts(api, state));
      return;
    case 'receipt':
      save(await runReceipt(api, state, positionals[1], positionals[2], flags));
      return;
    case 'messages':
      save(await runMessagesCommand(api, state, positionals[1], flags));
      return;
    case 'send':
      save(await sendMessage(api, state, flags, messageText));
      return;
    case 'inbox':
      save(await showInbox(api, state));
      return;
    case 'block':
      await block(api, state, flags);
      return;
    case 'unblock':
      await unblock(api, state, flags);
      return;
    case 'blocks':
      await listBlocks(api, state);
      return;
    case 'spam':
      save(await runSpamCommand(api, state, positionals[1], flags, messageText));
      return;
    case 'logout': {
      needSession();
      await api.logout();
      save({ sessionToken: undefined });
      console.log('logged out');
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"; run with --help`);
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof HomingApiError) {
    console.error(`error: ${err.message} (${err.code}, HTTP ${err.status}${err.requestId ? `, request ${err.requestId}` : ''})`);
  } else {
    console.error(`error: ${(err as Error).message}`);
  }
  process.exit(err instanceof UsageError ? 2 : 1);
});
