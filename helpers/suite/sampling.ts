import { planSplitSampling, type SplitExpectation } from '../judge/split-design.ts';
import { judgeSplit, type SplitJudgement } from '../judge/split.ts';
import type { RequestRecord } from '../observe/records.ts';

/** Sends `count` more requests and returns their records (the driver, or the in-mesh client). */
export type SendBatch = (count: number) => Promise<RequestRecord[]>;

/**
 * Observes a weighted split request by request, in batches: the first batch is the fewest requests after
 * which the judge can decide, and every later one the fewest after which its verdict can change (the judge's
 * `moreRequests`), so nothing is sent that the verdict cannot use. It stops as soon as the judge decides, and
 * at the plan's maximum at the latest. The records are the observation a recording keeps.
 *
 * It lives with the suites, not in observe/: it alternates observing and judging, letting the judge's decision
 * say how much more to observe, which is orchestration of both stages.
 */
export async function sampleSplit(expectation: SplitExpectation, send: SendBatch): Promise<{ records: RequestRecord[]; judgement: SplitJudgement }> {
  const plan = planSplitSampling(expectation);
  const records: RequestRecord[] = [];
  let wanted = plan.firstDecision;
  for (;;) {
    const batch = await send(wanted);
    records.push(...batch);
    // A batch that brought nothing (or the plan's end) leaves nothing more to wait for: judge what there is.
    const final = batch.length === 0 || records.length >= plan.maxRequests;
    const judgement = judgeSplit(expectation, records, { final });
    if (judgement.decision !== 'continue') return { records, judgement };
    wanted = Math.min(judgement.moreRequests ?? 1, plan.maxRequests - records.length);
  }
}
