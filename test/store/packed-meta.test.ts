import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { packMeta, unpackMeta } from '../../src/store/sqlite/packed-meta.js';
import { call, useContractGuards } from './contract/fixture.js';

/** What the FastAGI and ARI transports record of the calling channel (guard/authorize-args.ts). */
const CHANNEL = { channel: 'PJSIP/2192-00000001', uniqueid: '1795264997.192', context: 'dg-authorize', callerid: '2192', calleridname: 'Lab 2192' };

describe('the audit keeps a decision meta packed', () => {
  let dbPath = '';
  const open = useContractGuards(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialguard-packed-meta-'));
    dbPath = join(dir, 'dialguard.db');
    return { database: dbPath, destroy: async () => rmSync(dir, { recursive: true, force: true }) };
  });

  it("reads back a transport's channel exactly from the audit, stored in under half of its JSON", async () => {
    const t = await open({});
    const decision = await t.guard.authorize({ ...call('12125550123'), meta: CHANNEL });
    expect((await t.store.getDecision(decision.callId))?.meta).toEqual(CHANNEL);
    const db = new Database(dbPath, { readonly: true });
    const stored = db.prepare<[string], string>('SELECT meta FROM decisions WHERE id = ?').pluck().get(decision.callId) as string;
    db.close();
    expect(stored.length).toBeLessThan(JSON.stringify(CHANNEL).length / 2);
  });

  it('stores any other shape as plain JSON, and reads plain JSON as rows written before packing', () => {
    const others: Array<Record<string, string>> = [
      {},
      { channel: 'PJSIP/1001-00000001' },
      { ...CHANNEL, extra: 'x' },
      { uniqueid: CHANNEL.uniqueid, channel: CHANNEL.channel, context: CHANNEL.context, callerid: CHANNEL.callerid, calleridname: CHANNEL.calleridname },
      { ...CHANNEL, calleridname: 'a\x1eb' },
    ];
    for (const meta of others) {
      expect(packMeta(meta)).toBe(JSON.stringify(meta));
      expect(unpackMeta(packMeta(meta))).toEqual(meta);
    }
    expect(unpackMeta(JSON.stringify(CHANNEL))).toEqual(CHANNEL);
    expect(unpackMeta(packMeta({ ...CHANNEL, calleridname: '' }))).toEqual({ ...CHANNEL, calleridname: '' });
  });
});
