import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ApiClient } from '../api.js';
import { derivePasswordSecrets, unlockWithPassword } from '../crypto/account-keys.js';
import { fromBase64Url } from '../../protocol/encoding.js';
import { createSyncEngine, emptyReplica, type SyncReplica } from '../sync/engine.js';
import { backupFolder, restoreFolder } from './folder-sync.js';
import { readSecret } from './prompt.js';

/**
 * Opens the account's keys from the password, in memory only: the CLI never writes the master
 * key to disk, so each sync command asks for the password (or reads $HOMING_PASSWORD).
 */
async function unlock(api: ApiClient, accountId: string) {
  const bundle = await api.keyBundle();
  const password = await readSecret('Password', 'HOMING_PASSWORD');
  const secrets = await derivePasswordSecrets(password, { ...bundle.kdf, salt: fromBase64Url(bundle.kdf.salt) });
  try {
    return unlockWithPassword({ accountId, ...bundle }, secrets.kek);
  } catch {
    throw new Error('wrong password: the account keys did not open');
  }
}

// The replica holds decrypted file names, so it is private to this user like the state file.
const replicaPath = (statePath: string) => `${statePath.replace(/\.json$/, '')}.sync.json`;

function loadReplica(path: string): SyncReplica {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as SyncReplica) : emptyReplica();
}

function saveReplica(path: string, replica: SyncReplica) {
  writeFileSync(path, JSON.stringify(replica), { mode: 0o600 });
  chmodSync(path, 0o600);
}

export async function runSyncCommand(command: 'backup' | 'restore', api: ApiClient, input: { accountId: string; statePath: string; dir: string }) {
  const keys = await unlock(api, input.accountId);
  const path = replicaPath(input.statePath);
  const engine = createSyncEngine({ api, accountId: input.accountId, masterKey: keys.masterKey, replica: loadReplica(path) });
  try {
    if (command === 'backup') {
      const { uploaded, unchanged, keptBoth, newerElsewhere } = await backupFolder(api, engine, input.dir);
      const notes = [
        keptBoth ? `${keptBoth} changed on another device too, uploaded beside it as a conflict copy` : '',
        newerElsewhere ? `${newerElsewhere} newer on another device (run restore to get them)` : '',
      ].filter(Boolean);
      console.log(`backed up ${input.dir}: ${uploaded} uploaded, ${unchanged} unchanged${notes.map((n) => `, ${n}`).join('')}`);
    } else {
      const { restored, unchanged, skipped } = await restoreFolder(api, engine, input.dir);
      console.log(`restored into ${input.dir}: ${restored} written, ${unchanged} already up to date, ${skipped.length} skipped`);
      // JSON.stringify: a name is another device's text, and its control characters must not reach the terminal raw.
      for (const { name, reason } of skipped) console.log(`  skipped ${JSON.stringify(name)}: ${reason}`);
      if (skipped.length > 0) throw new Error(`${skipped.length} item${skipped.length === 1 ? '' : 's'} could not be restored (listed above)`);
    }
  } finally {
    saveReplica(path, engine.replica);
  }
}
