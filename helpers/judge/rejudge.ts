import { formatDuration } from '../config/timeouts.ts';
import { delta, increaseOf, type MetricObservation } from '../observe/metrics.ts';
import type { RequestRecord } from '../observe/records.ts';
import type { Expectation } from './expectation.ts';
import { describeMatcher, matcherPredicate } from './matchers.ts';
import { judgeAllMatch, judgeLatency, judgeRate } from './rates.ts';
import { judgeSplit } from './split.ts';
import { judgeEjection } from './ejection.ts';
import { judgeTraceDelay } from './trace.ts';
import type { TraceRecord } from '../observe/addons/jaeger.ts';
import { judgeKiali } from './kiali.ts';
import type { ApiAnswer } from '../observe/addons/answer.ts';
import { judgeAnalysisRecording, type AnalysisMessage } from './analysis.ts';
import type { Verdict } from './verdict.ts';

/**
 * Judges a recording's observations against its expectation: the same pure functions the suites call, so a
 * verdict can be re-run offline (`meshproof judge`) and tested on healthy and broken recordings alike.
 */
export function judgeRecording(recording: {
  expectation: Expectation;
  requests: readonly RequestRecord[];
  metrics: readonly MetricObservation[];
  traces?: readonly TraceRecord[] | undefined;
  answers?: readonly ApiAnswer[] | undefined;
  analysis?: readonly AnalysisMessage[] | undefined;
}): Verdict {
  return judgeExpectation(recording.expectation, recording.requests, recording.metrics, recording);
}

/**
 * What a recording may hold beside its requests and metrics, for the judges that read the add-ons and Istio's own
 * tools: traces from Jaeger (trace-delay), answers kept whole (kiali), and istioctl analyze's messages
 * (istio-analysis).
 */
export interface AddonObservations {
  traces?: readonly TraceRecord[] | undefined;
  answers?: readonly ApiAnswer[] | undefined;
  analysis?: readonly AnalysisMessage[] | undefined;
}

export function judgeExpectation(
  expectation: Expectation,
  requests: readonly RequestRecord[],
  metrics: readonly MetricObservation[] = [],
  observed: AddonObservations = {},
): Verdict {
  switch (expectation.judge) {
    case 'weighted-split': {
      const { weights, alpha, minShiftPoints, power } = expectation;
      // Offline there are no more requests to send: what was recorded is the final look.
      return judgeSplit({ weights, alpha, ...(minShiftPoints !== undefined && { minShiftPoints }), ...(power !== undefined && { power }) }, requests, { final: true })
        .verdict;
    }
    case 'all-match':
      return judgeAllMatch(requests, matcherPredicate(expectation.matcher), `${expectation.description} (${describeMatcher(expectation.matcher)})`);
    case 'rate':
      return judgeRate(requests, matcherPredicate(expectation.matcher), expectation.expectedRate, {
        alpha: expectation.alpha,
        description: `${expectation.description} (${describeMatcher(expectation.matcher)})`,
      });
    case 'latency': {
      const subject = expectation.matcher ? requests.filter(matcherPredicate(expectation.matcher)) : requests;
      return judgeLatency(subject, {
        description: expectation.description,
        ...(expectation.atLeastMs !== undefined && { atLeastMs: expectation.atLeastMs }),
        ...(expectation.atMostMs !== undefined && { atMostMs: expectation.atMostMs }),
        ...(expectation.quantile !== undefined && { quantile: expectation.quantile }),
      });
    }
    case 'metric-increase':
      return judgeMetricIncrease(expectation, metrics);
    case 'counter-ratio':
      return judgeCounterRatio(expectation, metrics);
    case 'ejection':
      return judgeEjection(expectation, requests);
    case 'trace-delay':
      return judgeTraceDelay(expectation, observed.traces ?? []);
    case 'kiali':
      return judgeKiali(expectation, observed.answers ?? []);
    case 'istio-analysis':
      return judgeAnalysisRecording(expectation, observed.analysis);
  }
}

export type CounterRef = Extract<Expectation, { judge: 'counter-ratio' }>['numerator'];

/** The increase of one counter (or one group of it) during the batch, with the words for a sentence. */
export function increaseOfCounter(ref: CounterRef, metrics: readonly MetricObservation[]): { increase: number; subject: string } | undefined {
  const observation = metrics.find((m) => m.name === ref.metric);
  if (!observation) return undefined;
  const change = delta(observation.before, observation.after);
  const increase = ref.group ? increaseOf(change, ref.group) : change.total;
  const subject = ref.group ? `${change.promql} for ${Object.entries(ref.group).map(([k, v]) => `${k}="${v}"`).join(',')}` : change.promql;
  return { increase, subject };
}

/** "2 or 3", "exactly 3": the ratio bounds in words. */
function ratioBounds(atLeast: number, atMost: number): string {
  return atLeast === atMost ? `exactly ${atLeast}` : `between ${atLeast} and ${atMost}`;
}

/**
 * Two counters in a fixed ratio: e.g. a retry policy of 2 retries on 5xx, against an upstream that always
 * answers 503, makes the destination sidecar count 3 attempts for every request the client's sidecar counts.
 */
function judgeCounterRatio(expectation: Extract<Expectation, { judge: 'counter-ratio' }>, metrics: readonly MetricObservation[]): Verdict {
  const numerator = increaseOfCounter(expectation.numerator, metrics);
  const denominator = increaseOfCounter(expectation.denominator, metrics);
  const figures: Verdict['figures'] = { atLeast: expectation.atLeast, atMost: expectation.atMost, minDenominator: expectation.minDenominator };
  const wanted = ratioBounds(expectation.atLeast, expectation.atMost);
  if (!numerator || !denominator) {
    const missing = [!numerator && expectation.numerator.metric, !denominator && expectation.denominator.metric].filter(Boolean).join('", "');
    return { pass: false, judge: 'counter-ratio', figures, sentence: `${expectation.description}: no metric named "${missing}" was recorded` };
  }
  Object.assign(figures, { numerator: numerator.increase, denominator: denominator.increase });
  const counts = `${numerator.subject} rose by ${+numerator.increase.toFixed(3)}, ${denominator.subject} by ${+denominator.increase.toFixed(3)}`;
  if (denominator.increase < expectation.minDenominator) {
    return {
      pass: false,
      judge: 'counter-ratio',
      figures: { ...figures, ratio: null },
      sentence: `${expectation.description}: ${counts}; at least ${expectation.minDenominator} expected below the line, so no ratio is shown (${wanted} expected)`,
    };
  }
  const ratio = numerator.increase / denominator.increase;
  const pass = ratio >= expectation.atLeast && ratio <= expectation.atMost;
  return {
    pass,
    judge: 'counter-ratio',
    figures: { ...figures, ratio },
    sentence: `${expectation.description}: ${counts}, a ratio of ${+ratio.toFixed(3)}; ${wanted} expected${pass ? '' : ': not met'}`,
  };
}

function judgeMetricIncrease(expectation: Extract<Expectation, { judge: 'metric-increase' }>, metrics: readonly MetricObservation[]): Verdict {
  const observation = metrics.find((m) => m.name === expectation.metric);
  const figures: Verdict['figures'] = { atLeast: expectation.atLeast, atMost: expectation.atMost ?? null };
  if (!observation) {
    return {
      pass: false,
      judge: 'metric-increase',
      figures,
      sentence: `${expectation.description}: no metric named "${expectation.metric}" was recorded`,
    };
  }
  const change = delta(observation.before, observation.after);
  const seconds = Math.max(0, change.to - change.from);
  const group = expectation.group;
  const increase = group ? increaseOf(change, group) : change.total;
  const within = increase >= expectation.atLeast && (expectation.atMost === undefined || increase <= expectation.atMost);
  const subject = group ? `${change.promql} for ${Object.entries(group).map(([k, v]) => `${k}="${v}"`).join(',')}` : change.promql;
  const bound = expectation.atMost === undefined ? `at least ${expectation.atLeast}` : `between ${expectation.atLeast} and ${expectation.atMost}`;
  return {
    pass: within,
    judge: 'metric-increase',
    figures: { ...figures, increase, series: change.seriesMatched, resets: change.resets, seconds },
    sentence:
      `${expectation.description}: ${subject} rose by ${+increase.toFixed(3)} over ${formatDuration(Math.round(seconds) * 1000)} ` +
      `(${change.seriesMatched} series${change.resets ? `, ${change.resets} counter resets` : ''}); ${bound} expected`,
  };
}
