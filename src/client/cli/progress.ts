/**
 * Progress for long transfers on stderr: a redrawn bar on a terminal, a line every ten percent
 * otherwise (logs, CI), so neither floods the output.
 */
export function createProgress(label: string, totalBytes: number, out: NodeJS.WriteStream = process.stderr) {
  const interactive = Boolean(out.isTTY);
  let lastDecile = -1;
  let doneBefore = 0;
  let filesDone = 0;
  const started = Date.now();

  const render = (done: number, force = false) => {
    const fraction = totalBytes === 0 ? 1 : Math.min(1, done / totalBytes);
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = `${formatBytes(done / seconds)}/s`;
    const text = `${label} ${formatBytes(done)} of ${formatBytes(totalBytes)} (${Math.floor(fraction * 100)}%), ${filesDone} files, ${rate}`;
    if (interactive) {
      const width = 24;
      const filled = Math.round(fraction * width);
      out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\u001b[K`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile > lastDecile || force) {
        lastDecile = decile;
        out.write(`${text}\n`);
      }
    }
  };

  return {
    /** Bytes done within the current file. */
    update: (bytesInFile: number) => render(doneBefore + bytesInFile),
    fileDone(bytes: number) {
      doneBefore += bytes;
      filesDone++;
      render(doneBefore);
    },
    finish() {
      render(totalBytes, true);
      if (interactive) out.write('\n');
    },
  };
}

export function formatBytes(bytes: number) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
