import { el } from './views.js';

// Saves a file the page made (an export archive, the recovery key) through a blob: URL and an
// <a download>. The CSP needs nothing for it: a download is neither a fetch (connect-src) nor a
// frame, and the URL is this page's own. Returns a function that forgets the URL at once.

export function saveFile(blob: Blob, filename: string): () => void {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, hidden: '' });
  document.body.append(link);
  link.click();
  link.remove();
  let revoked = false;
  const revoke = () => {
    if (revoked) return;
    revoked = true;
    URL.revokeObjectURL(url);
  };
  // Long enough for the browser to start writing the file.
  window.setTimeout(revoke, 60_000);
  return revoke;
}
