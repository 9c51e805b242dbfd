// Text someone else wrote, made safe to print. A message goes from one phone to another without
// the server reading it, so nothing checked it on the way: it may carry escape sequences (ESC,
// CSI) that move the cursor, recolour or retitle the terminal, a carriage return that overprints
// the line, or bidirectional overrides that make it read as something else.
//
// Guarantee: every C0 and C1 control character except tab and newline, DEL, the bidirectional
// marks, embeddings, overrides and isolates, and the line and paragraph separators come out as a
// visible escape (\u{1b}); nothing in the result can make the terminal do anything but print.
// Newlines stay, with the lines after the first indented so a message cannot fake a line of the
// CLI's own output.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

export function printable(text: string, indent = '    '): string {
  return text.replace(UNSAFE, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`).replace(/\n/g, `\n${indent}`);
}
