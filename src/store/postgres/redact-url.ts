/**
 * The URL as it may be logged or shown: never its password. Apart from connection.ts so that
 * naming the database does not load the PostgreSQL driver into an SQLite guard.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'a PostgreSQL URL that does not parse';
  }
}
