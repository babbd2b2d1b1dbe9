import { isDeepStrictEqual } from 'node:util';
import { checkSpec, featureCatalog, featureFixtures, isFeatureName, type CheckSpec } from '../config/features.ts';
import { faultDelayMs } from '../config/manifests.ts';
import type { RequestRecord } from '../observe/records.ts';
import { metricSlack, type Expectation } from './expectation.ts';
import { plannedRequests } from './rates.ts';
import { planSplitSampling } from './split-design.ts';

/**
 * `meshproof judge --strict`: a recording must be held to the expectation the catalogue gives its check
 * (helpers/config/features.ts) and carry at least the planned number of requests at the configured α, so that a
 * recording whose expectation was weakened — 100/0/0 for the canary, an empty matcher, a looser α, one request
 * where 88 were planned — is invalid rather than passed. Checks without a catalogue entry (the observability
 * features') are held to nothing more than the format.
 */
export interface StrictSubject {
  feature: string;
  check?: string | undefined;
  expectation: Expectation;
  requests: readonly RequestRecord[];
}

/** The catalogue's minimum shift and power for splits (helpers/judge/split-design.ts defaults). */
const catalogueShiftPoints = 10;
const cataloguePower = 0.999;

export function strictProblems(recording: StrictSubject, alpha: number): string[] {
  const { expectation } = recording;
  if (!isFeatureName(recording.feature)) return [`feature "${recording.feature}" is not in the catalogue (meshproof features)`];
  const hasChecks = Object.keys(featureCatalog[recording.feature].checks).length > 0;
  if (!hasChecks) return [];
  if (!recording.check) return ['no check id: it cannot be held to the catalogue (recordings from meshproof 0.1 have none)'];
  const spec = checkSpec(recording.check);
  if (!spec || !recording.check.startsWith(`${recording.feature}/`)) return [`check "${recording.check}" is not one of ${recording.feature}'s (meshproof features --checks)`];
  if (spec.judge !== expectation.judge) return [`check ${recording.check} is judged ${spec.judge}, the recording says ${expectation.judge}`];
  const problems: string[] = [];
  const same = (field: string, got: unknown, want: unknown) => {
    if (!isDeepStrictEqual(got, want)) problems.push(`expectation.${field} is ${JSON.stringify(got)}; the catalogue says ${JSON.stringify(want)}`);
  };
  const atLeastRequests = (planned: number) => {
    if (recording.requests.length < planned) problems.push(`${recording.requests.length} requests; the catalogue plans at least ${planned} at α = ${alpha}`);
  };
  const alphaAtMost = (got: number | undefined) => {
    if (got === undefined || got > alpha) problems.push(`expectation.alpha is ${got}; at most the configured ${alpha}`);
  };
  judgeBySpec(spec, expectation, { same, atLeastRequests, alphaAtMost, problems, alpha });
  return problems;
}

interface Rules {
  same: (field: string, got: unknown, want: unknown) => void;
  atLeastRequests: (planned: number) => void;
  alphaAtMost: (got: number | undefined) => void;
  problems: string[];
  alpha: number;
}

function judgeBySpec(spec: CheckSpec, e: Expectation, r: Rules): void {
  if (spec.judge === 'weighted-split' && e.judge === 'weighted-split') {
    r.same('weights', e.weights, spec.weights);
    r.alphaAtMost(e.alpha);
    if ((e.minShiftPoints ?? catalogueShiftPoints) > catalogueShiftPoints) r.problems.push(`expectation.minShiftPoints is ${e.minShiftPoints}; at most ${catalogueShiftPoints}`);
    if ((e.power ?? cataloguePower) < cataloguePower) r.problems.push(`expectation.power is ${e.power}; at least ${cataloguePower}`);
    if (r.problems.length === 0) r.atLeastRequests(planSplitSampling({ weights: spec.weights, alpha: r.alpha }).fewestToPass);
  } else if (spec.judge === 'all-match' && e.judge === 'all-match') {
    r.same('matcher', e.matcher, spec.matcher);
    r.atLeastRequests(plannedRequests(spec.requests, r.alpha));
  } else if (spec.judge === 'rate' && e.judge === 'rate') {
    r.same('matcher', e.matcher, spec.matcher);
    r.same('expectedRate', e.expectedRate, spec.expectedRate);
    r.alphaAtMost(e.alpha);
    r.atLeastRequests(plannedRequests(spec.requests, r.alpha, spec.expectedRate));
  } else if (spec.judge === 'latency' && e.judge === 'latency') {
    r.same('atLeastMs', e.atLeastMs, spec.atLeastMs);
    r.same('atMostMs', e.atMostMs, spec.atMostMs);
    r.same('quantile', e.quantile, spec.quantile);
    r.same('matcher', e.matcher, undefined);
    r.atLeastRequests(plannedRequests(spec.requests, r.alpha));
  } else if (spec.judge === 'metric-increase' && e.judge === 'metric-increase') {
    r.same('metric', e.metric, spec.metric);
    if (e.atLeast < spec.atLeast) r.problems.push(`expectation.atLeast is ${e.atLeast}; the catalogue wants at least ${spec.atLeast}`);
    if (e.atMost === undefined || e.atMost > e.atLeast + metricSlack(e.atLeast)) {
      r.problems.push(`expectation.atMost is ${e.atMost}; at most atLeast + ${metricSlack(e.atLeast)} (the slack for stray requests)`);
    }
  } else if (spec.judge === 'counter-ratio' && e.judge === 'counter-ratio') {
    r.same('numerator', e.numerator, { metric: spec.numerator });
    r.same('denominator', e.denominator, { metric: spec.denominator });
    r.same('atLeast', e.atLeast, spec.atLeast);
    r.same('atMost', e.atMost, spec.atMost);
    const planned = plannedRequests(spec.requests, r.alpha);
    if (e.minDenominator < planned) r.problems.push(`expectation.minDenominator is ${e.minDenominator}; the catalogue plans ${planned}`);
  } else if (spec.judge === 'ejection' && e.judge === 'ejection') {
    r.same('trigger', e.trigger, { status: 500 });
    r.same('refused', e.refused, { status: 503, responseFlag: spec.refusedFlag });
    r.same('served', e.served, { status: 200 });
    r.same('ejectionMs', e.ejectionMs, spec.ejectionMs);
    r.same('intervalMs', e.intervalMs, spec.intervalMs);
    if (e.reactionMs > spec.reactionMs) r.problems.push(`expectation.reactionMs is ${e.reactionMs}; at most ${spec.reactionMs}`);
    if (e.toleranceMs > spec.toleranceMs) r.problems.push(`expectation.toleranceMs is ${e.toleranceMs}; at most ${spec.toleranceMs}`);
    if (e.minRefused < spec.minRefused) r.problems.push(`expectation.minRefused is ${e.minRefused}; at least ${spec.minRefused}`);
  } else if (spec.judge === 'trace-delay' && e.judge === 'trace-delay') {
    r.same('call', e.call, spec.call);
    r.same('delayed', e.delayed, spec.delayed);
    r.same('gaveUp', e.gaveUp, spec.gaveUp);
    // The delay is the one the suite's own files give jason's calls to ratings (02-fault-injection.yaml: 7 s).
    const labDelayMs = faultDelayMs(featureFixtures['fault-delay'], 'ratings', { 'end-user': 'jason' });
    r.same('delayMs', e.delayMs, labDelayMs);
  } else if (spec.judge === 'kiali' && e.judge === 'kiali') {
    // The catalogue fixes what is read; the run adds the split's counts and the run's α.
    for (const [key, want] of Object.entries(spec.reading)) r.same(`reading.${key}`, (e.reading as Record<string, unknown>)[key], want);
    if (e.reading.of === 'error-rate') r.alphaAtMost(e.reading.alpha);
    if (e.reading.of === 'edge-shares' && e.reading.confidence < 1 - r.alpha) r.problems.push(`expectation.reading.confidence is ${e.reading.confidence}; at least 1 − α = ${1 - r.alpha}`);
  } else if (spec.judge === 'istio-analysis' && e.judge === 'istio-analysis') {
    r.same('namespace', e.namespace, spec.namespace);
  }
}
