import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureAdminToken } from '../auth/tokens.js';
import { DEFAULTS, formatAddress, loadConfig, localAddress, type Config } from '../config/config.js';
import { configTemplate } from '../config/template.js';
import { ConfigError } from '../errors.js';
import { openStore } from '../runtime.js';
import { absoluteDatabase, describeDatabase } from '../store/open-store.js';
import type { CommandIO } from './io.js';
import { packagePath } from './package-files.js';

export const INIT_HELP = `dialguard init [--config FILE] [--db FILE] [--force]
                                write FILE (default ./dialguard.conf, or DIALGUARD_CONFIG): every setting
                                with its default and a comment; create the database and the first admin
                                token; print the next steps for this site. --force overwrites FILE.`;

/** Where the systemd unit (deploy/systemd/dialguard.service) reads its configuration and keeps its database. */
const UNIT_CONFIG = '/etc/dialguard/dialguard.conf';
const UNIT_DB = '/var/lib/dialguard/dialguard.db';

export interface InitOptions {
  /** --config, else DIALGUARD_CONFIG, else ./dialguard.conf. */
  configFile?: string;
  /** --db: the database to create, written into the file. */
  db?: string;
  args: string[];
}

export async function runInit(options: InitOptions, io: CommandIO): Promise<number> {
  const { values } = parseArgs({ args: options.args, options: { force: { type: 'boolean', default: false } }, allowPositionals: false, strict: true });
  const path = resolve(options.configFile ?? process.env.DIALGUARD_CONFIG ?? 'dialguard.conf');
  const text = configTemplate({
    db: options.db === undefined ? DEFAULTS.db : absoluteDatabase(options.db),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    writtenAt: new Date().toISOString(),
  });
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  try {
    // 0640: the file is where a site puts the ARI and SMTP passwords.
    writeFileSync(path, text, { flag: values.force ? 'w' : 'wx', mode: 0o640 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError(`${path} exists already: not overwritten (dialguard init --force replaces it)`);
    throw new ConfigError(`cannot write ${path}: ${(error as Error).message}`);
  }
  io.out(`dialguard: wrote ${path}: every setting with its default; environment variables win over it`);

  // Read back through the loader serve uses: what was written is what will run.
  const config = loadConfig({ configFile: path, flags: { db: options.db } });
  const store = await openStore(config);
  let token: string | null;
  let hadAdmin: boolean;
  try {
    hadAdmin = (await store.listTokens()).some((t) => t.role === 'admin');
    token = await ensureAdminToken(store, config.adminToken);
  } finally {
    await store.close();
  }
  io.out(`dialguard: database ${describeDatabase(absoluteDatabase(config.dbPath))} ready (schema up to date)`);
  if (token) io.out(`dialguard admin token (shown only this once, only its hash is stored): ${token}`);
  else if (config.adminToken) io.out('dialguard: the admin token is the configured one (DIALGUARD_ADMIN_TOKEN or adminToken), stored hashed');
  else if (hadAdmin) io.out('dialguard: the database has an admin token already; dialguard token create --role admin makes another');
  io.out('');
  io.out(nextSteps(config, path));
  return 0;
}

/** What the administrator does next on this machine, with this configuration's paths and addresses. */
export function nextSteps(config: Config, configPath: string): string {
  const ari = config.ari !== null;
  const dialplanFile = ari ? 'extensions-dialguard-ari.conf' : 'extensions-dialguard.conf';
  const agi = localAddress(config.agiListen);
  const agiUrl = `agi://${formatAddress(agi.host, agi.port)}`;
  const http = localAddress(config.httpListen);
  const globals = [
    'DIALGUARD_TRUNK to your trunk',
    ...(agiUrl === `agi://${DEFAULTS.agiListen}` ? [] : [`DIALGUARD_AGI=${agiUrl}${agi.host === config.agiListen.host ? '' : ' (or this machine\'s address, when Asterisk runs elsewhere)'}`]),
  ];
  const global = ` --config ${configPath}`;
  const unit = packagePath('deploy/systemd/dialguard.service');
  const lines = [
    'Next steps:',
    `1. Asterisk dialplan: copy ${join(packagePath('dialplan'), dialplanFile)} to /etc/asterisk/,`,
    `   add   #include "${dialplanFile}"   to /etc/asterisk/extensions.conf, set in its [globals]`,
    `   ${globals.join(' and ')}, send outbound calls through [${ari ? 'dialguard-outbound-ari' : 'dialguard-outbound'}], then`,
    '     asterisk -rx "dialplan reload"',
    '2. Voicemail dial-out and callback: in /etc/asterisk/voicemail.conf, [general], add',
    `     dialout=${ari ? 'dialguard-vm-dialout-ari' : 'dialguard-vm-dialout'}`,
    `     callback=${ari ? 'dialguard-vm-dialout-ari' : 'dialguard-vm-dialout'}`,
    '   then   asterisk -rx "voicemail reload"',
    `3. Run it: dialguard${global} serve`,
    `   or as a systemd service: ${unit} (its first lines say how to install it).`,
    configPath === UNIT_CONFIG && absoluteDatabase(config.dbPath) === UNIT_DB
      ? '   The unit reads this file and uses this database.'
      : `   The unit reads ${UNIT_CONFIG} and uses the database ${UNIT_DB}: to prepare both, run\n     dialguard init --config ${UNIT_CONFIG} --db ${UNIT_DB}`,
    `4. Dashboard: http://${formatAddress(http.host, http.port)}/ (sign in with the admin token).`,
    `5. Check everything: dialguard${global} doctor`,
  ];
  return lines.join('\n');
}
