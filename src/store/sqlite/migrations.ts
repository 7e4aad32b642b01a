import type { Database } from 'better-sqlite3';
import { StoreError } from '../../errors.js';

/**
 * Versioned schema: migration N brings `user_version` from N-1 to N. Append only; a shipped
 * migration is never edited, because databases in the field already ran it.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('policy_version', '0');

  -- defaults (overrides of the built-in defaults), rates, blockedPrefixes, highRisk, site: JSON
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE extensions (
    ext TEXT PRIMARY KEY,
    overrides TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Kept apart from extensions: replacing or deleting an extension's policy must never unlock it.
  CREATE TABLE locks (
    ext TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE policy_changes (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    before TEXT,
    after TEXT,
    version INTEGER NOT NULL
  );
  CREATE INDEX policy_changes_subject ON policy_changes (subject, id);

  CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    transport TEXT NOT NULL,
    ext TEXT NOT NULL,
    dialled TEXT NOT NULL,
    e164 TEXT,
    country TEXT,
    number_type TEXT,
    source TEXT NOT NULL,
    source_ip TEXT,
    source_country TEXT,
    origin TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    limit_ms INTEGER NOT NULL,
    reserved_seconds INTEGER,
    reserved_micros INTEGER,
    policy_version INTEGER NOT NULL,
    latency_us INTEGER NOT NULL,
    checks TEXT NOT NULL,
    meta TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX decisions_at ON decisions (at);
  CREATE INDEX decisions_ext_at ON decisions (ext, at);

  CREATE TABLE reservations (
    call_id TEXT PRIMARY KEY,
    ext TEXT NOT NULL,
    e164 TEXT NOT NULL,
    per_minute_micros INTEGER NOT NULL,
    increment INTEGER NOT NULL,
    minimum INTEGER NOT NULL,
    day TEXT NOT NULL,
    month TEXT NOT NULL,
    reserved_seconds INTEGER NOT NULL,
    reserved_micros INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    settled_at INTEGER,
    answered_seconds INTEGER,
    dial_status TEXT,
    cost_micros INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX reservations_active ON reservations (ext, expires_at) WHERE status = 'active';

  -- Running totals per extension and period ('d:2026-11-21', 'm:2026-11') and the number of
  -- active reservations, so that reading usage costs the same with 10 or 100,000 calls on record.
  CREATE TABLE usage_totals (
    ext TEXT NOT NULL,
    period TEXT NOT NULL,
    spend_micros INTEGER NOT NULL DEFAULT 0,
    seconds INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ext, period)
  ) WITHOUT ROWID;
  CREATE TABLE active_calls (ext TEXT PRIMARY KEY, active INTEGER NOT NULL) WITHOUT ROWID;

  CREATE TABLE settlements (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    answered_seconds INTEGER NOT NULL,
    dial_status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    cost_micros INTEGER NOT NULL
  );
  CREATE INDEX settlements_call ON settlements (call_id);
  `,
  `
  -- Admin API tokens: only a sha256 of each token is kept. A revoked token stays on record
  -- (who created and revoked it, when); its name may then be reused.
  CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'auditor')),
    hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT
  );
  CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
  `,
  `
  -- Fraud detection. Velocity counters are kept for the longest window (an hour) and read as
  -- indexed ranges, each only up to its limit: a read costs the same with 10 or 10 million calls
  -- on record. kind: 1 a call placed at home, 2 a call placed abroad, 3 an attempt the policy denied.
  CREATE TABLE velocity_attempts (
    id INTEGER PRIMARY KEY,
    ext TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind INTEGER NOT NULL
  );
  CREATE INDEX velocity_attempts_ext ON velocity_attempts (ext, kind, at);

  -- The last call to each number: the distinct numbers of the last hour are the rows newer than it.
  CREATE TABLE velocity_destinations (
    ext TEXT NOT NULL,
    destination TEXT NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (ext, destination)
  ) WITHOUT ROWID;
  CREATE INDEX velocity_destinations_recent ON velocity_destinations (ext, last_at);

  -- Countries called abroad: the last call, and the last call that was the first in noveltyDays.
  CREATE TABLE velocity_countries (
    ext TEXT NOT NULL,
    country TEXT NOT NULL,
    last_at INTEGER NOT NULL,
    novel_at INTEGER,
    PRIMARY KEY (ext, country)
  ) WITHOUT ROWID;
  CREATE INDEX velocity_countries_novel ON velocity_countries (ext, novel_at) WHERE novel_at IS NOT NULL;

  -- The site circuit breaker, one row. spent_micros is the running total of international_spend,
  -- whose rows leave it an hour after their call: a sliding hour of international spend.
  CREATE TABLE circuit_breaker (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    limit_micros INTEGER,
    spent_micros INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER,
    opened_by TEXT,
    reset_at INTEGER,
    reset_by TEXT
  );
  INSERT INTO circuit_breaker (id, limit_micros) VALUES (1, 500000000);
  CREATE TABLE international_spend (
    call_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    micros INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX international_spend_at ON international_spend (at);

  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    ext TEXT,
    check_name TEXT,
    counter TEXT,
    message TEXT NOT NULL,
    shadow INTEGER NOT NULL DEFAULT 0,
    decision_id TEXT,
    details TEXT NOT NULL,
    dedup_key TEXT,
    acked_at INTEGER,
    acked_by TEXT,
    delivery_status TEXT NOT NULL DEFAULT 'pending',
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    delivery_next_at INTEGER,
    delivery_error TEXT,
    delivered_to TEXT NOT NULL DEFAULT '[]'
  ) WITHOUT ROWID;
  CREATE INDEX alerts_dedup ON alerts (dedup_key, last_at) WHERE dedup_key IS NOT NULL;
  CREATE INDEX alerts_due ON alerts (delivery_next_at) WHERE delivery_status = 'pending';
  CREATE INDEX alerts_ext ON alerts (ext, id);

  -- Shadow mode: the call was allowed; would_deny and would_reason say what enforce mode would have done.
  ALTER TABLE decisions ADD COLUMN mode TEXT NOT NULL DEFAULT 'enforce';
  ALTER TABLE decisions ADD COLUMN would_deny INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE decisions ADD COLUMN would_reason TEXT;
  CREATE INDEX decisions_shadow ON decisions (at) WHERE would_deny = 1;
  `,
  `
  -- ANSWEREDTIME as reported (cut to 64 characters), and whether answered_seconds was clamped to
  -- the granted limit plus the settlement tolerance. Rows settled before have NULL and 0.
  ALTER TABLE settlements ADD COLUMN reported TEXT;
  ALTER TABLE settlements ADD COLUMN clamped INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- The decision path's own cost (issue 13).
  -- Decisions in a rowid table: rows of hundreds of bytes split the pages of a WITHOUT ROWID
  -- table (keyed by a ULID, two to a page). The indexes end with id, as they implicitly did, so
  -- the keyset paging on (at, id) stays an index walk. checks are packed (packed-checks.ts).
  CREATE TABLE decisions_by_row (
    id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    transport TEXT NOT NULL,
    ext TEXT NOT NULL,
    dialled TEXT NOT NULL,
    e164 TEXT,
    country TEXT,
    number_type TEXT,
    source TEXT NOT NULL,
    source_ip TEXT,
    source_country TEXT,
    origin TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    limit_ms INTEGER NOT NULL,
    reserved_seconds INTEGER,
    reserved_micros INTEGER,
    policy_version INTEGER NOT NULL,
    latency_us INTEGER NOT NULL,
    checks TEXT NOT NULL,
    meta TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'enforce',
    would_deny INTEGER NOT NULL DEFAULT 0,
    would_reason TEXT
  );
  INSERT INTO decisions_by_row SELECT id, at, transport, ext, dialled, e164, country, number_type, source, source_ip, source_country,
    origin, result, reason, message, limit_ms, reserved_seconds, reserved_micros, policy_version, latency_us, checks, meta,
    mode, would_deny, would_reason FROM decisions ORDER BY at, id;
  DROP TABLE decisions;
  ALTER TABLE decisions_by_row RENAME TO decisions;
  CREATE INDEX decisions_at ON decisions (at, id);
  CREATE INDEX decisions_ext_at ON decisions (ext, at, id);
  CREATE INDEX decisions_shadow ON decisions (at, id) WHERE would_deny = 1;

  -- Velocity attempts carry the extension's running counts up to and including themselves (in
  -- time order): a sliding count is the difference of two rows found by one index probe each,
  -- whatever the limit and however many attempts the window holds.
  ALTER TABLE velocity_attempts ADD COLUMN placed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE velocity_attempts ADD COLUMN international INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE velocity_attempts ADD COLUMN denied INTEGER NOT NULL DEFAULT 0;
  UPDATE velocity_attempts SET placed = w.placed, international = w.international, denied = w.denied
    FROM (SELECT id,
            SUM(kind IN (1, 2)) OVER running AS placed,
            SUM(kind = 2) OVER running AS international,
            SUM(kind = 3) OVER running AS denied
          FROM velocity_attempts
          WINDOW running AS (PARTITION BY ext ORDER BY at, id ROWS UNBOUNDED PRECEDING)) AS w
    WHERE w.id = velocity_attempts.id;
  DROP INDEX velocity_attempts_ext;
  CREATE INDEX velocity_attempts_running ON velocity_attempts (ext, at, placed, international, denied, kind);

  -- How many numbers each extension has a row for, kept by triggers whoever adds or deletes one
  -- (the decision path, an unlock, retention): distinct numbers of the hour are this minus the
  -- rows older than the hour, which the decision path deletes as they leave it.
  CREATE TABLE velocity_numbers (ext TEXT PRIMARY KEY, numbers INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO velocity_numbers (ext, numbers) SELECT ext, COUNT(*) FROM velocity_destinations GROUP BY ext;
  CREATE TRIGGER velocity_number_added AFTER INSERT ON velocity_destinations BEGIN
    INSERT INTO velocity_numbers (ext, numbers) VALUES (new.ext, 1) ON CONFLICT (ext) DO UPDATE SET numbers = numbers + 1;
  END;
  CREATE TRIGGER velocity_number_dropped AFTER DELETE ON velocity_destinations BEGIN
    UPDATE velocity_numbers SET numbers = numbers - 1 WHERE ext = old.ext;
  END;
  `,
  `
  -- Site-wide counters (source_concurrency, destination_spread), read from the reservations:
  -- the calls in progress from one signalling address, and the extensions that called one number
  -- lately. source_ip is the decision's source address (no port); rows reserved before are NULL.
  ALTER TABLE reservations ADD COLUMN source_ip TEXT;
  CREATE INDEX reservations_source_active ON reservations (source_ip, expires_at) WHERE status = 'active' AND source_ip IS NOT NULL;
  CREATE INDEX reservations_destination ON reservations (e164, created_at, ext);
  `,
  `
  -- Alerts in a rowid table: an alert's row (its details JSON) is larger than what a page of a
  -- WITHOUT ROWID table holds locally, so each took an overflow page of its own, mostly empty
  -- (about 38 bytes a decision of the bench's workload). The indexes are those of before.
  CREATE TABLE alerts_by_row (
    id TEXT NOT NULL UNIQUE,
    at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    ext TEXT,
    check_name TEXT,
    counter TEXT,
    message TEXT NOT NULL,
    shadow INTEGER NOT NULL DEFAULT 0,
    decision_id TEXT,
    details TEXT NOT NULL,
    dedup_key TEXT,
    acked_at INTEGER,
    acked_by TEXT,
    delivery_status TEXT NOT NULL DEFAULT 'pending',
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    delivery_next_at INTEGER,
    delivery_error TEXT,
    delivered_to TEXT NOT NULL DEFAULT '[]'
  );
  INSERT INTO alerts_by_row SELECT id, at, last_at, occurrences, kind, severity, ext, check_name, counter, message, shadow, decision_id,
    details, dedup_key, acked_at, acked_by, delivery_status, delivery_attempts, delivery_next_at, delivery_error, delivered_to FROM alerts ORDER BY id;
  DROP TABLE alerts;
  ALTER TABLE alerts_by_row RENAME TO alerts;
  CREATE INDEX alerts_dedup ON alerts (dedup_key, last_at) WHERE dedup_key IS NOT NULL;
  CREATE INDEX alerts_due ON alerts (delivery_next_at) WHERE delivery_status = 'pending';
  CREATE INDEX alerts_ext ON alerts (ext, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date (`to`: up to that version, as an older release left a database);
 * safe when several processes start on one file at once.
 */
export function migrate(db: Database, to: number = SCHEMA_VERSION): { from: number; to: number } {
  const apply = db.transaction((): number => {
    // Read inside the write lock: another process may have migrated while we waited.
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from > SCHEMA_VERSION) {
      throw new StoreError(`database schema version ${from} is newer than this dialguard (${SCHEMA_VERSION}): upgrade dialguard`);
    }
    for (let v = from; v < to; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
    return from;
  });
  return { from: apply.immediate(), to };
}
