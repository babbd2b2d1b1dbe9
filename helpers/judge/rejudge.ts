import { delta, increaseOf } from '../observe/prometheus.ts';
import type { RequestRecord } from '../observe/records.ts';
import type { Expectation, Recording } from '../record/recording.ts';
import { describeMatcher, matcherPredicate } from './matchers.ts';
import { judgeAllMatch, judgeLatency, judgeRate } from './rates.ts';
import { judgeSplit } from './split.ts';
import type { Verdict } from './verdict.ts';

/**
 * Judges a recording's observations against its expectation: the same pure functions the suites call, so a
 * verdict can be re-run offline (`meshproof judge`) and tested on healthy and broken recordings alike.
 */
export function judgeRecording(recording: Recording): Verdict {
  return judgeExpectation(recording.expectation, recording.requests, recording.metrics);
}

export function judgeExpectation(expectation: Expectation, requests: readonly RequestRecord[], metrics: Recording['metrics'] = []): Verdict {
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
  }
}

function judgeMetricIncrease(expectation: Extract<Expectation, { judge: 'metric-increase' }>, metrics: Recording['metrics']): Verdict {
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
      `${expectation.description}: ${subject} rose by ${+increase.toFixed(3)} over ${seconds.toFixed(0)} s ` +
      `(${change.seriesMatched} series${change.resets ? `, ${change.resets} counter resets` : ''}); ${bound} expected`,
  };
}
