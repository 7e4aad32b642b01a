import type pg from 'pg';
import { StoreError } from '../../errors.js';

/**
 * Versioned schema of the PostgreSQL store, its own (the SQLite store has its own too): migration
 * N brings `dialguard_schema.version` from N-1 to N. Append only; a shipped migration is never
 * edited, because databases in the field already ran it.
 *
 * Money is integer micro-units and times epoch milliseconds, both BIGINT, as in the SQLite store.
 * JSON is `json` (kept as written: a policy reads back key for key). Ids and extensions that
 * are listed in order are `COLLATE "C"`: ULIDs and names sort by their bytes whatever the
 * database's locale.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
  INSERT INTO meta (key, value) VALUES ('policy_version', 0);

  -- defaults (overrides of the built-in defaults), rates, blockedPrefixes, highRisk, site
  CREATE TABLE settings (key text PRIMARY KEY, value json NOT NULL);

  CREATE TABLE extensions (
    ext text COLLATE "C" PRIMARY KEY,
    overrides json NOT NULL,
    version bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  -- Kept apart from extensions: replacing or deleting an extension's policy must never unlock it.
  CREATE TABLE locks (
    ext text COLLATE "C" PRIMARY KEY,
    reason text NOT NULL,
    actor text NOT NULL,
    at bigint NOT NULL
  );

  CREATE TABLE policy_changes (
    id bigserial PRIMARY KEY,
    at bigint NOT NULL,
    actor text NOT NULL,
    subject text NOT NULL,
    before json,
    after json,
    version bigint NOT NULL
  );
  CREATE INDEX policy_changes_subject ON policy_changes (subject, id);

  CREATE TABLE decisions (
    id text COLLATE "C" PRIMARY KEY,
    at bigint NOT NULL,
    transport text NOT NULL,
    ext text NOT NULL,
    dialled text NOT NULL,
    e164 text,
    country text,
    number_type text,
    source text NOT NULL,
    source_ip text,
    source_country text,
    origin text NOT NULL,
    result text NOT NULL,
    reason text NOT NULL,
    message text NOT NULL,
    limit_ms bigint NOT NULL,
    reserved_seconds bigint,
    reserved_micros bigint,
    policy_version bigint NOT NULL,
    latency_us bigint NOT NULL,
    checks json NOT NULL,
    meta json NOT NULL,
    -- Shadow mode: the call was allowed; would_deny and would_reason say what enforce mode would have done.
    mode text NOT NULL DEFAULT 'enforce',
    would_deny boolean NOT NULL DEFAULT false,
    would_reason text
  );
  CREATE INDEX decisions_at ON decisions (at, id);
  CREATE INDEX decisions_ext_at ON decisions (ext, at, id);
  CREATE INDEX decisions_shadow ON decisions (at, id) WHERE would_deny;

  CREATE TABLE reservations (
    call_id text PRIMARY KEY,
    ext text NOT NULL,
    e164 text NOT NULL,
    per_minute_micros bigint NOT NULL,
    increment integer NOT NULL,
    minimum integer NOT NULL,
    day text NOT NULL,
    month text NOT NULL,
    reserved_seconds bigint NOT NULL,
    reserved_micros bigint NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    status text NOT NULL,
    settled_at bigint,
    answered_seconds bigint,
    dial_status text,
    cost_micros bigint
  );
  CREATE INDEX reservations_active ON reservations (ext, expires_at) WHERE status = 'active';
  CREATE INDEX reservations_active_all ON reservations (expires_at) WHERE status = 'active';

  -- Running totals per extension and period ('d:2026-11-21', 'm:2026-11') and the number of
  -- active reservations, so that reading usage costs the same with 10 or 100,000 calls on record.
  CREATE TABLE usage_totals (
    ext text NOT NULL,
    period text NOT NULL,
    spend_micros bigint NOT NULL DEFAULT 0,
    seconds bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (ext, period)
  );
  CREATE TABLE active_calls (ext text PRIMARY KEY, active bigint NOT NULL);

  CREATE TABLE settlements (
    id bigserial PRIMARY KEY,
    call_id text NOT NULL,
    at bigint NOT NULL,
    answered_seconds bigint NOT NULL,
    dial_status text NOT NULL,
    outcome text NOT NULL,
    cost_micros bigint NOT NULL,
    -- ANSWEREDTIME as reported, and whether answered_seconds was clamped to the granted limit plus the tolerance.
    reported text,
    clamped boolean NOT NULL DEFAULT false
  );
  CREATE INDEX settlements_call ON settlements (call_id, id);

  -- Admin API tokens: only a sha256 of each token is kept. A revoked token stays on record
  -- (who created and revoked it, when); its name may then be reused.
  CREATE TABLE tokens (
    id bigserial PRIMARY KEY,
    name text COLLATE "C" NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'auditor')),
    hash text NOT NULL,
    created_at bigint NOT NULL,
    created_by text NOT NULL,
    revoked_at bigint,
    revoked_by text
  );
  CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;

  -- Fraud detection: the velocity counters, kept for the longest window (an hour) and read as
  -- indexed ranges, each only up to its limit. kind: 1 a call placed at home, 2 a call placed
  -- abroad, 3 an attempt the policy denied.
  CREATE TABLE velocity_attempts (
    id bigserial PRIMARY KEY,
    ext text NOT NULL,
    at bigint NOT NULL,
    kind smallint NOT NULL
  );
  CREATE INDEX velocity_attempts_ext ON velocity_attempts (ext, kind, at);

  -- The last call to each number: the distinct numbers of the last hour are the rows newer than it.
  CREATE TABLE velocity_destinations (
    ext text NOT NULL,
    destination text NOT NULL,
    last_at bigint NOT NULL,
    PRIMARY KEY (ext, destination)
  );
  CREATE INDEX velocity_destinations_recent ON velocity_destinations (ext, last_at);

  -- Countries called abroad: the last call, and the last call that was the first in noveltyDays.
  CREATE TABLE velocity_countries (
    ext text NOT NULL,
    country text NOT NULL,
    last_at bigint NOT NULL,
    novel_at bigint,
    PRIMARY KEY (ext, country)
  );
  CREATE INDEX velocity_countries_novel ON velocity_countries (ext, novel_at) WHERE novel_at IS NOT NULL;

  -- The site circuit breaker, one row: the one row lock that serialises international calls of
  -- every guard. spent_micros is the running total of international_spend, whose rows leave it
  -- an hour after their call: a sliding hour of international spend.
  CREATE TABLE circuit_breaker (
    id integer PRIMARY KEY CHECK (id = 1),
    limit_micros bigint,
    spent_micros bigint NOT NULL DEFAULT 0,
    opened_at bigint,
    opened_by json,
    reset_at bigint,
    reset_by text
  );
  INSERT INTO circuit_breaker (id, limit_micros) VALUES (1, 500000000);
  CREATE TABLE international_spend (
    call_id text PRIMARY KEY,
    at bigint NOT NULL,
    micros bigint NOT NULL
  );
  CREATE INDEX international_spend_at ON international_spend (at);

  CREATE TABLE alerts (
    id text COLLATE "C" PRIMARY KEY,
    at bigint NOT NULL,
    last_at bigint NOT NULL,
    occurrences bigint NOT NULL DEFAULT 1,
    kind text NOT NULL,
    severity text NOT NULL,
    ext text,
    check_name text,
    counter text,
    message text NOT NULL,
    shadow boolean NOT NULL DEFAULT false,
    decision_id text,
    details json NOT NULL,
    dedup_key text,
    acked_at bigint,
    acked_by text,
    delivery_status text NOT NULL DEFAULT 'pending',
    delivery_attempts integer NOT NULL DEFAULT 0,
    delivery_next_at bigint,
    delivery_error text,
    delivered_to json NOT NULL DEFAULT '[]'
  );
  CREATE INDEX alerts_dedup ON alerts (dedup_key, last_at) WHERE dedup_key IS NOT NULL;
  CREATE INDEX alerts_due ON alerts (delivery_next_at) WHERE delivery_status = 'pending';
  CREATE INDEX alerts_ext ON alerts (ext, id);
  `,
  `
  -- Site-wide counters (source_concurrency, destination_spread), read from the reservations:
  -- the calls in progress from one signalling address, and the extensions that called one number
  -- lately. source_ip is the decision's source address (no port); rows reserved before are NULL.
  ALTER TABLE reservations ADD COLUMN source_ip text;
  CREATE INDEX reservations_source_active ON reservations (source_ip, expires_at) WHERE status = 'active' AND source_ip IS NOT NULL;
  CREATE INDEX reservations_destination ON reservations (e164, created_at, ext);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Key of the session advisory lock held while migrating: guards starting at once on a new
 * database take turns, and the second finds the schema already up to date.
 */
const MIGRATION_LOCK = 0x6469616c; // 'dial'

/** Brings the schema up to date, one guard at a time; each migration commits with its version. */
export async function migrate(client: pg.ClientBase): Promise<{ from: number; to: number }> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS dialguard_schema (version integer NOT NULL, applied_at bigint NOT NULL)');
    const read = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM dialguard_schema');
    const from = read.rows[0]?.version ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new StoreError(`database schema version ${from} is newer than this dialguard (${SCHEMA_VERSION}): upgrade dialguard`);
    }
    for (let v = from; v < SCHEMA_VERSION; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v] as string);
        await client.query('INSERT INTO dialguard_schema (version, applied_at) VALUES ($1, $2)', [v + 1, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return { from, to: SCHEMA_VERSION };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
