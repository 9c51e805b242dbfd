import { createInterface, type Interface } from 'node:readline';

/**
 * Reads a secret: from the named environment variable when set (scripts, CI), else from a
 * terminal prompt that does not echo, else the first line of standard input.
 */
export async function readSecret(label: string, envName: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) return readLine();
  process.stderr.write(`${label}: `);
  process.stdin.setRawMode(true);
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new Error('cancelled'));
          return;
        }
        value = char === '\u007f' ? value.slice(0, -1) : value + char;
      }
    };
    const finish = () => {
      process.stdin.setRawMode(false);
      process.stdin.off('data', onData);
      process.stdin.pause();
      process.stderr.write('\n');
    };
    process.stdin.on('data', onData);
    process.stdin.resume();
  });
}

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new Error('no input on stdin');
}

let prompt: Interface | undefined;
let lines: AsyncIterator<string> | undefined;

/** One line of stdin (a terminal or a pipe), shared by every question of this run. */
export async function ask(question: string): Promise<string> {
  process.stderr.write(question);
  prompt ??= createInterface({ input: process.stdin, terminal: false });
  lines ??= prompt[Symbol.asyncIterator]();
  const next = await lines.next();
  if (next.done) throw new Error('no answer on stdin');
  return next.value.trim();
}

/** Lets the process exit: an open prompt holds stdin. */
export function closePrompts() {
  prompt?.close();
  prompt = undefined;
  lines = undefined;
}
