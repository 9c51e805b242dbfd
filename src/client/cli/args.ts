const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * node:util parseArgs takes a value that starts with "-" for a missing value (an "ambiguous"
 * option), so `--lon -3.7` would fail where `--lon=-3.7` works. A negative number right after one
 * of the numeric options is joined to it in that second form; anything else that starts with "-"
 * stays an option of its own.
 */
export function joinNegativeNumbers(argv: readonly string[], numericOptions: readonly string[]) {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...joined, ...argv.slice(i)];
    const value = argv[i + 1];
    if (arg.startsWith('--') && numericOptions.includes(arg.slice(2)) && value !== undefined && NEGATIVE_NUMBER.test(value)) {
      joined.push(`${arg}=${value}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}
