import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.js';
import { DialguardError } from '../errors.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { CHECK_HELP, runCheck } from './check.js';
import { DOCTOR_HELP, runDoctor } from './doctor.js';
import { FORENSICS_HELP, runForensics } from './forensics.js';
import { INIT_HELP, runInit } from './init.js';
import { processIO, UsageError, type CommandIO } from './io.js';
import { POLICY_HELP, runPolicy } from './policy.js';
import { TOKEN_HELP, runToken } from './token.js';
import { runServe } from './serve.js';
import { packageVersion } from './version.js';

const HELP = `dialguard: toll-fraud guard for Asterisk

Usage:
  dialguard init [--force]        write a commented config file, create the database and the first admin token
  dialguard serve                 run the FastAGI guard (and the admin API) on the embedded defaults
  dialguard doctor [--json]       check the configuration, the database, GeoIP, the listeners, ARI, mail, the clock
  dialguard check --ext EXT --number NUMBER [--source ADDR] [--origin ORIGIN] [--at ISO-8601] [--json]
  dialguard forensics [--since TIME] [--until TIME] [--json] FILE…
                                  how the PBX was broken into, from the Asterisk logs and the audit
  dialguard policy import FILE
  dialguard policy export
  dialguard token create --role auditor|admin [--name NAME]
  dialguard token revoke NAME
  dialguard token list

Global options:
  --db FILE        database file (env DIALGUARD_DB, default ./data/dialguard.db)
  --config FILE    JSON config file (env DIALGUARD_CONFIG); environment variables win over it
  -h, --help       this help
  --version        the installed version

${INIT_HELP}

${DOCTOR_HELP}

${CHECK_HELP}

${FORENSICS_HELP}

${POLICY_HELP}

${TOKEN_HELP}`;

/** Runs one command; returns the exit status. Errors become a message on stderr and status 2. */
export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { db: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
      allowPositionals: true,
      strict: false,
    });
  } catch (err) {
    io.err(`dialguard: ${(err as Error).message}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (parsed.values.version) {
    io.out(packageVersion());
    return 0;
  }
  if (parsed.values.help || !command) {
    io.out(HELP);
    return command || parsed.values.help ? 0 : 2;
  }
  // Global options are consumed here; the command sees only its own.
  const commandArgs = stripGlobal(argv, command);
  const configFile = typeof parsed.values.config === 'string' ? parsed.values.config : undefined;
  const db = typeof parsed.values.db === 'string' ? parsed.values.db : undefined;
  try {
    // These two load the configuration themselves: init writes it, doctor reports it failing to load.
    if (command === 'init') return await runInit({ configFile, db, args: commandArgs }, io);
    if (command === 'doctor') return await runDoctor({ configFile, db, args: commandArgs }, io);
    const config = loadConfig({ configFile, flags: { db } });
    switch (command) {
      case 'serve':
        return await runServe(config, io);
      case 'check':
        return await withRuntime(config, (runtime) => runCheck(runtime.guard, commandArgs, io));
      case 'forensics':
        return await runForensics(config, commandArgs, io === processIO && process.stderr.isTTY ? { ...io, progress: terminalProgress } : io);
      case 'policy':
        return await withRuntime(config, (runtime) => runPolicy({ guard: runtime.guard, policies: runtime.store }, commandArgs, io));
      case 'token':
        return await withRuntime(config, (runtime) => runToken(runtime.store, commandArgs, io));
      default:
        throw new UsageError(`unknown command "${command}"`, HELP);
    }
  } catch (err) {
    return reportError(err, io);
  }
}

async function withRuntime(config: Config, run: (runtime: Runtime) => number | Promise<number>): Promise<number> {
  const runtime = await openRuntime(config);
  try {
    return await run(runtime);
  } finally {
    await runtime.close();
  }
}

/** Rewrites one stderr line in place; an empty text clears it. */
function terminalProgress(text: string): void {
  process.stderr.write(`\r\x1b[K${text}`);
}

function stripGlobal(argv: string[], command: string): string[] {
  const out: string[] = [];
  let seenCommand = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--db' || a === '--config') {
      i++;
      continue;
    }
    if (a.startsWith('--db=') || a.startsWith('--config=')) continue;
    if (!seenCommand && a === command) {
      seenCommand = true;
      continue;
    }
    out.push(a);
  }
  return out;
}

function reportError(err: unknown, io: CommandIO): number {
  if (err instanceof UsageError) {
    io.err(`dialguard: ${err.message}\n\n${err.help}`);
  } else if (err instanceof DialguardError) {
    io.err(`dialguard: ${err.message}`);
    if (err.details && Array.isArray(err.details)) {
      for (const p of err.details as Array<{ field: string; message: string }>) io.err(`  ${p.field}: ${p.message}`);
    }
  } else if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`dialguard: ${err.message}`);
  } else {
    io.err(`dialguard: ${(err as Error)?.stack ?? String(err)}`);
  }
  return 2;
}
