/**
 * node:util parseArgs takes a value that starts with "-" for a missing value (an "ambiguous"
 * option), so `--lon -3.7` fails where `--lon=-3.7` works. That is not rare: a base64url id starts
 * with "-" one time in 64, so `spam withdraw --id -Qx…` failed for one report in 64. Here a value
 * right after an option that takes one is joined to it in that second form, whatever it starts
 * with, unless it is itself one of the known options (`--email --server …` still reads as a
 * missing email) or `--`, the end of the options.
 */
export function joinOptionValues(argv: readonly string[], options: Readonly<Record<string, { type: 'string' | 'boolean'; short?: string }>>) {
  const known = new Set(['--', ...Object.entries(options).flatMap(([name, { short }]) => [`--${name}`, ...(short ? [`-${short}`] : [])])]);
  const takesValue = (arg: string) => arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...joined, ...argv.slice(i)];
    const value = argv[i + 1];
    if (takesValue(arg) && value !== undefined && value.startsWith('-') && !known.has(value.split('=')[0]!)) {
      joined.push(`${arg}=${value}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}
