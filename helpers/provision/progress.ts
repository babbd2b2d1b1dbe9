import { formatDuration } from '../config/timeouts.ts';

export interface PhaseRecord {
  name: string;
  status: 'done' | 'skipped' | 'failed';
  /** Why a phase was skipped ("istiod 1.30.3 already healthy") or how it failed. */
  detail?: string;
  startedAt: number;
  durationMs: number;
}

export type Log = (line: string) => void;

export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/**
 * Prints each provisioning phase as it starts and ends, with its elapsed time, and keeps the records so
 * the report can show the phases as setup steps.
 */
export class PhaseTracker {
  readonly phases: PhaseRecord[] = [];
  private readonly startedAt = Date.now();

  constructor(private readonly log: Log = stderrLog) {}

  /**
   * Runs one phase. `body` returns a string to mark the phase skipped with that reason (its target state
   * already held), or nothing when it did the work.
   */
  async run(name: string, body: () => Promise<string | void>): Promise<void> {
    const startedAt = Date.now();
    this.log(`▶ ${name}`);
    try {
      const skippedBecause = await body();
      const durationMs = Date.now() - startedAt;
      if (skippedBecause) {
        this.phases.push({ name, status: 'skipped', detail: skippedBecause, startedAt, durationMs });
        this.log(`✓ ${name}: ${skippedBecause} — skipped (${formatDuration(durationMs)})`);
      } else {
        this.phases.push({ name, status: 'done', startedAt, durationMs });
        this.log(`✓ ${name} (${formatDuration(durationMs)})`);
      }
    } catch (error) {
      const durationMs = Date.now() - startedAt;
      this.phases.push({ name, status: 'failed', detail: (error as Error).message, startedAt, durationMs });
      this.log(`✗ ${name} failed after ${formatDuration(durationMs)}`);
      throw error;
    }
  }

  note(line: string): void {
    this.log(`  ${line}`);
  }

  total(): string {
    return formatDuration(Date.now() - this.startedAt);
  }
}
