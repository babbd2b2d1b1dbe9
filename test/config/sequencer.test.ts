import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { DurationSequencer, readDurations } from '../support/sequencer.ts';

/** The order files start in: conformance suites by number, self-tests longest first even without vitest's cache. */
const root = '/project';
const spec = (project: string, file: string) => ({ moduleId: `${root}/${file}`, project: { name: project } }) as unknown as TestSpecification;

class Measured extends DurationSequencer {
  constructor(cached: Record<string, number>, private readonly measured: Record<string, number>) {
    super({ config: { root }, cache: { getFileTestResults: (key: string) => (key in cached ? { duration: cached[key]!, failed: false } : undefined) } } as unknown as Vitest);
  }
  protected override measuredDurations() {
    return this.measured;
  }
}

const names = (specs: TestSpecification[]) => specs.map((s) => `${s.project.name}:${s.moduleId.slice(root.length + 1)}`);

describe('DurationSequencer', () => {
  it("starts the longest self-tests first: the committed duration of a whole run, else vitest's cached one", async () => {
    const sequencer = new Measured({ 'self:test/b.test.ts': 1_000, 'self:test/new.test.ts': 20_000 }, { 'test/a.test.ts': 50, 'test/b.test.ts': 90, 'test/c.test.ts': 5 });
    const sorted = await sequencer.sort([spec('self', 'test/c.test.ts'), spec('self', 'test/b.test.ts'), spec('self', 'test/new.test.ts'), spec('self', 'test/newest.test.ts'), spec('self', 'test/a.test.ts')]);
    expect(names(sorted)).toEqual(['self:test/b.test.ts', 'self:test/a.test.ts', 'self:test/new.test.ts', 'self:test/c.test.ts', 'self:test/newest.test.ts']);
  });

  it('runs conformance suites in their numbered order, whatever they took, before the self-tests', async () => {
    const sequencer = new Measured({ 'conformance:suites/10-traffic-shifting.test.ts': 90_000 }, {});
    const sorted = await sequencer.sort([spec('self', 'test/a.test.ts'), spec('conformance', 'suites/10-traffic-shifting.test.ts'), spec('conformance', 'suites/00-mesh-ready.test.ts')]);
    expect(names(sorted)).toEqual(['conformance:suites/00-mesh-ready.test.ts', 'conformance:suites/10-traffic-shifting.test.ts', 'self:test/a.test.ts']);
  });

  it('the committed list, as npm run bench writes it, has the longest files first', () => {
    const durations = Object.values(readDurations());
    expect(durations.length).toBeGreaterThan(50);
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
  });
});
