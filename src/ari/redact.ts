/**
 * ari-client authenticates its websocket with `api_key=USER:PASSWORD` in the URL and sends the
 * password base64-encoded in every REST request. Any text that comes out of it or of its HTTP
 * and websocket libraries (error messages, close reasons) goes through this before a log line.
 */
export type Scrubber = (text: string) => string;

const REDACTED = '[redacted]';

export function credentialScrubber(user: string, password: string): Scrubber {
  const secrets = password
    ? [...new Set([password, encodeURIComponent(password), Buffer.from(`${user}:${password}`).toString('base64')])]
        // Longest first: a secret that contains another is replaced whole.
        .sort((a, b) => b.length - a.length)
    : [];
  return (text) => {
    let out = text.replace(/(api_key=)[^&\s"']*/gi, `$1${REDACTED}`).replace(/(\/\/)[^/@\s]*@/g, `$1${REDACTED}@`);
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  };
}
