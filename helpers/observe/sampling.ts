import type { SplitExpectation, SplitJudgement } from '../judge/split.ts';
import { judgeSplit, planSplitSampling } from '../judge/split.ts';
import type { RequestRecord } from './records.ts';

/** Sends `count` more requests and returns their records (the driver, or the in-mesh client). */
export type SendBatch = (count: number) => Promise<RequestRecord[]>;

/**
 * Observes a weighted split look by look: it sends only as many requests as the next look of the sequential
 * design needs, and stops as soon as the judge decides. The records are the observation a recording keeps.
 */
export async function sampleSplit(expectation: SplitExpectation, send: SendBatch): Promise<{ records: RequestRecord[]; judgement: SplitJudgement }> {
  const plan = planSplitSampling(expectation);
  const records: RequestRecord[] = [];
  let judgement: SplitJudgement | undefined;
  for (const [i, look] of plan.looks.entries()) {
    if (look > records.length) records.push(...(await send(look - records.length)));
    judgement = judgeSplit(expectation, records, { final: i === plan.looks.length - 1 });
    if (judgement.decision !== 'continue') break;
  }
  return { records, judgement: judgement! };
}
