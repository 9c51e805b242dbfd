import { existsSync, readFileSync } from 'node:fs';

/**
 * Waits for the newest line of a server's SMS or e-mail outbox (JSON lines) addressed to `to`,
 * and returns the 6-digit code in its `field`.
 */
export async function codeSentTo(file: string, to: string, field: 'text' | 'body' = 'text', timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const entry = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>).filter((e) => e.to === to).at(-1);
      const code = entry && /\b(\d{6})\b/.exec(entry[field] ?? '')?.[1];
      if (code) return code;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no code for ${to} in ${file}`);
}
