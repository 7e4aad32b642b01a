import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNodeOptions } from '../../scripts/bench/servers.js';
import { repoRoot } from '../support/captures.js';

describe('deploy/systemd/dialguard.service', () => {
  it('runs node with the options of npm start, the ones the bench measures', () => {
    const unit = readFileSync(resolve(repoRoot, 'deploy/systemd/dialguard.service'), 'utf8');
    // systemd splits Environment= on spaces unless the assignment is quoted.
    const assignment = /^Environment=(?:"NODE_OPTIONS=([^"]*)"|NODE_OPTIONS=(\S*))$/m.exec(unit);
    const nodeOptions = (assignment?.[1] ?? assignment?.[2])?.trim().split(/\s+/);
    expect(startNodeOptions()).toContainEqual(expect.stringMatching(/^--max-semi-space-size=\d+$/));
    expect(nodeOptions).toEqual(startNodeOptions());
  });
});
