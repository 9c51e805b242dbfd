import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startTestServer } from './spawn.js';

let dir: string;
let url: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ dir, url, stop } = await startTestServer('cli'));
});

afterAll(() => stop());

const cli = (args: string[], options: { state: string; password?: string; stdin?: string }) =>
  run('src/client/cli/main.ts', {
    cwd: dir,
    args: [...args, '--server', url, '--state', options.state],
    env: options.password ? { HOMING_PASSWORD: options.password } : {},
    stdin: options.stdin,
  });

describe('device CLI against a running server', () => {
  it('signs up, logs in, registers, lists and removes devices', async () => {
    const state = join(dir, 'phone.json');
    const signup = await cli(['signup', '--email', 'ada@example.org', '--birth-year', '1990', '--kdf-ops', '1', '--kdf-mem', '8192'], {
      state,
      stdin: 'a long password\n',
    });
    expect(signup.code).toBe(0);
    expect(signup.output).toMatch(/Recovery key[^\n]*\n\n\s+[0-9a-f]{8}(-[0-9a-f]{8}){7}/);

    const login = await cli(['login', '--email', 'ada@example.org'], { state, password: 'a long password' });
    expect(login.code).toBe(0);
    expect(login.output).toContain('logged in');
    expect(statSync(state).mode & 0o777).toBe(0o600);

    const register = await cli(['register', '--name', 'Test phone', '--platform', 'android'], { state });
    expect(register.output).toContain('registered device Test phone');

    const whoami = await cli(['whoami'], { state });
    expect(whoami.output).toContain('this is device Test phone');

    const devices = await cli(['devices'], { state });
    expect(devices.output).toMatch(/id\s+name\s+model\s+platform\s+last seen/);
    expect(devices.output).toMatch(/Test phone \(this one\)\s+homing device CLI\s+android\s+just now/);
    const deviceId = devices.output.split('\n')[2]!.split(/\s+/)[0]!;

    const removed = await cli(['remove', '--device', deviceId], { state });
    expect(removed.output).toContain(`removed device ${deviceId}`);
    // Removing the phone it runs on ends the CLI's own session too: a removed phone keeps no way in.
    expect(removed.output).toContain('this session ended with it');
    expect((await cli(['devices'], { state })).output).toContain('error: not logged in');
    await cli(['login', '--email', 'ada@example.org'], { state, password: 'a long password' });
    expect((await cli(['devices'], { state })).output).toContain('no devices yet');
  });

  it('prints readable errors with the server code', async () => {
    const state = join(dir, 'stranger.json');
    const wrong = await cli(['login', '--email', 'nobody@example.org'], { state, password: 'whatever' });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toMatch(/^error: the email, password or recovery key is wrong \(invalid_credentials, HTTP 401, request \S+\)$/m);

    const usage = await cli(['devices'], { state });
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('error: not logged in');

    const unknown = await cli(['fly'], { state });
    expect(unknown.output).toContain('unknown command "fly"');
  });
});
