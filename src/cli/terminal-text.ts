/** C0 controls but newline and tab, DEL, and C1 controls (0x9b is a one-character CSI to many terminals). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/**
 * Text that may come from a request (a body, a header, a path, a value read from a body), made safe to print
 * on a terminal: every control character becomes a `\u001b`-style escape, so that no sequence in it can
 * retitle the terminal, write the clipboard (OSC 52) or rewrite a line already printed. These are the escapes
 * JSON uses, so JSON output stays valid JSON.
 */
export const terminalText = (text: string): string =>
  text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
