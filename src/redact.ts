/**
 * Text that comes out of a client library holding a password goes through this before a log
 * line or a stored error. ari-client authenticates its websocket with `api_key=USER:PASSWORD` in
 * the URL and sends `USER:PASSWORD` base64-encoded in every REST request; an SMTP login sends the
 * password base64-encoded alone (AUTH LOGIN) or as `\0USER\0PASSWORD` (AUTH PLAIN).
 */
export type Scrubber = (text: string) => string;

const REDACTED = '[redacted]';

export function credentialScrubber(user: string, password: string): Scrubber {
  const secrets = password
    ? [
        ...new Set([
          password,
          encodeURIComponent(password),
          ...[`${user}:${password}`, password, `\0${user}\0${password}`].map((text) => Buffer.from(text).toString('base64')),
        ]),
      ]
        // Longest first: a secret that contains another is replaced whole.
        .sort((a, b) => b.length - a.length)
    : [];
  return (text) => {
    let out = text.replace(/(api_key=)[^&\s"']*/gi, `$1${REDACTED}`).replace(/(\/\/)[^/@\s]*@/g, `$1${REDACTED}@`);
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  };
}
