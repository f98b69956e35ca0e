// The benchmark's pairs in short runs, each ratio held to a floor far below its goal: a cheap
// check in `npm test` that the kit's and the gateway's costs have not come back. The full
// measurement is `npx nx run bench:run` (docs/performance.md).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cpuPlan } from '../src/cpus.ts';
import { Fixture } from '../src/fixture.ts';
import { GUARD_FLOORS, GUARD_SETTINGS } from '../src/guard.ts';
import { runScenario } from '../src/run.ts';
import { SCENARIOS } from '../src/scenarios.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-guard-'));
const cpus = cpuPlan();
const fixture = new Fixture({ dir, cpu: cpus.servers });
after(async () => {
  await fixture.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('performance guard (CPU per request, ratios only)', () => {
  for (const [id, floor] of Object.entries(GUARD_FLOORS)) {
    const scenario = SCENARIOS.find((s) => s.id === id);
    it(`${id}: ${scenario?.title ?? 'unknown'} stays above ${floor}x`, async () => {
      assert.ok(scenario, `no scenario ${id}`);
      const result = await runScenario(scenario, fixture, { ...GUARD_SETTINGS, cpus }, (line) =>
        process.stdout.write(`# ${line}\n`),
      );

      process.stdout.write(
        `# ${id}: ${result.cpuRatio.toFixed(3)}x by CPU/req (rounds ${result.cpuRounds
          .map((r) => r.toFixed(2))
          .join(', ')}), ${result.value.toFixed(3)}x by req/s\n`,
      );
      assert.deepEqual(result.problems, []);
      assert.ok(
        result.cpuRatio >= floor,
        `${id} is ${result.cpuRatio.toFixed(3)}x by CPU per request, under its floor of ${floor}x`,
      );
    });
  }
});
