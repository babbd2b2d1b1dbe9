import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { fromRoot } from '../../helpers/config/data-file.ts';

/**
 * The order the files start in. Self-tests: the longest first, so the ones that wait on real time (a rate
 * limiter's refill, an ejection window, a browser, the dress rehearsal) overlap with the short ones instead of
 * trailing after them. vitest's own sequencer does that only from durations it cached in an earlier run on the
 * same machine; a fresh clone (CI, a new contributor) has none and starts the files in glob order, which left the
 * longest files to the end and cost about 20 s. So each file takes its duration from
 * test/self-test-durations.json, which `npm run bench` rewrites from its run of the self-tests, and a file the list
 * does not know yet from vitest's cache.
 *
 * Conformance suites run one at a time in their numbered order (00-mesh-ready first), whatever they took last time.
 */
export const durationsFile = fromRoot('test', 'self-test-durations.json');

/** Seconds per file, relative to the project root with forward slashes: what the last bench run measured. */
export function readDurations(file = durationsFile): Record<string, number> {
  // No file, or a broken one, leaves vitest's own order for the files it has no durations of: slower, not wrong.
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

export class DurationSequencer extends BaseSequencer {
  /** The committed durations (a test gives its own). */
  protected measuredDurations(): Record<string, number> {
    return readDurations();
  }

  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const measured = this.measuredDurations();
    const relative = (spec: TestSpecification) => path.relative(root, spec.moduleId).split(path.sep).join('/');
    // The committed durations come from a whole run, six files at once, which is what the order is for; vitest's
    // cache keeps the last run of each file, often one run alone, and serves the files the list does not know yet.
    const seconds = (spec: TestSpecification) => {
      const committed = measured[relative(spec)];
      if (committed !== undefined) return committed;
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${relative(spec)}`);
      return cached ? cached.duration / 1000 : 0;
    };
    return [...files].sort((a, b) => {
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      if (a.project.name === 'conformance') return relative(a) < relative(b) ? -1 : 1;
      return seconds(b) - seconds(a);
    });
  }
}
