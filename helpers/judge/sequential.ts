/**
 * The sequential test of one class's share that the weighted-split judge (split.ts) runs after every request:
 * "is this class's share w, or is it w − δ or w + δ?", decided from the count x of requests that class
 * answered among the first n, with at most N requests.
 *
 * Which test: of all tests that look after every request, stop by request N, and keep
 *
 *   P_w(fail) ≤ α_c   (a healthy class is failed at most this often)
 *   P_{w∓δ}(pass) ≤ β (a class off by δ is passed at most this often, for each direction separately)
 *
 * the one with the smallest expected number of requests when the share is w. It is found exactly, by backward
 * induction over (n, x) — the classic Bayes/Lagrange construction (Kiefer–Weiss; Lorden, "Nearly-optimal
 * sequential tests for finitely many parameter values", Ann. Statist. 1977): for multipliers λ₀, λ₋, λ₊ the
 * procedure minimising
 *
 *   E_w[requests] + λ₀·P_w(fail) + λ₋·P_{w−δ}(pass) + λ₊·P_{w+δ}(pass)
 *
 * stops at (n, x) when stopping costs no more than going on, where stopping to pass costs
 * λ₋·LR₋(n, x) + λ₊·LR₊(n, x) (LR: the likelihood ratio of the alternative to w, in P_w terms) and stopping
 * to fail costs λ₀. The multipliers are then tuned until the exact error rates meet the budgets. Because a test
 * that minimises the Lagrangian is optimal for the error rates it attains, no test of this count can average
 * fewer requests at those rates — the "physical limit" for one class, up to the truncation at N.
 *
 * The resulting test is a pair of one-sided sequential probability-ratio-like tests merged into one: at each
 * n the counts split into five intervals, fail low | continue | pass | continue | fail high. The shape is
 * checked when the test is built, so a verdict is always one of those regions.
 *
 * Every figure here is exact: the error rates and expected sample sizes come from carrying the distribution
 * of the count forward request by request (a Bernoulli step at a time), not from simulation or a normal
 * approximation. Nothing here draws random numbers.
 */

/** What a class's test asks. Shares and alternatives are fractions. */
export interface ShareTestSpec {
  /** The share the class should have, 0 < share < 1. */
  share: number;
  /** The shares it must tell apart from share (share − δ and/or share + δ, each in [0, 1]). */
  alternatives: readonly number[];
  /** Budget for P_share(fail). */
  alpha: number;
  /** Budget for P_alternative(pass), for each alternative. */
  beta: number;
  /** The test always ends by this many requests. */
  maxRequests: number;
  /** No pass before this many requests (the judge's certainty window: see split-design.ts). */
  fewestToPass: number;
}

/** The test as regions of the count, per number of requests n = 0 … maxRequests (index n). */
export interface ShareTest {
  spec: ShareTestSpec;
  /** Fail when the count is ≤ this (−1: no count is low enough). */
  rejectAtOrBelow: Int32Array;
  /** Pass when acceptFrom ≤ count ≤ acceptTo (empty when acceptFrom > acceptTo). */
  acceptFrom: Int32Array;
  acceptTo: Int32Array;
  /** Fail when the count is ≥ this (n + 1: no count is high enough). */
  rejectAtOrAbove: Int32Array;
  /** Exact operating characteristic at the share itself (the false-failure figures). */
  healthy: OperatingCharacteristic;
  /** Exact operating characteristic at each alternative, in the order of spec.alternatives. */
  atAlternatives: OperatingCharacteristic[];
}

/** What the test does when the class's true share is p: exact probabilities and mean sample size. */
export interface OperatingCharacteristic {
  trueShare: number;
  failBelow: number;
  failAbove: number;
  pass: number;
  expectedRequests: number;
}

export type ShareDecision = 'fail-below' | 'fail-above' | 'pass' | 'continue';

export function decisionAt(test: ShareTest, n: number, count: number): ShareDecision {
  if (n <= 0) return 'continue';
  if (count <= (test.rejectAtOrBelow[n] ?? -1)) return 'fail-below';
  if (count >= (test.rejectAtOrAbove[n] ?? n + 1)) return 'fail-above';
  if (count >= (test.acceptFrom[n] ?? 1) && count <= (test.acceptTo[n] ?? 0)) return 'pass';
  return 'continue';
}

/**
 * The fewest further requests after which the test, now undecided at (n, count), could reach `outcome`
 * ('fail': either side; 'pass'), whatever those requests bring; Infinity when it cannot before maxRequests.
 */
export function fewestMoreRequests(test: ShareTest, n: number, count: number, outcome: 'fail' | 'pass'): number {
  const N = test.spec.maxRequests;
  for (let m = 1; n + m <= N; m++) {
    const at = n + m;
    // After m requests the count is anywhere in [count, count + m].
    if (outcome === 'fail') {
      if (count <= (test.rejectAtOrBelow[at] ?? -1) || count + m >= (test.rejectAtOrAbove[at] ?? at + 1)) return m;
    } else {
      const from = test.acceptFrom[at] ?? 1;
      const to = test.acceptTo[at] ?? 0;
      if (from <= to && from <= count + m && to >= count) return m;
    }
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * Exact operating characteristic at true share p: the distribution of the count is carried forward one
 * request at a time over the still-undecided counts only (the rest has stopped), so the cost is the area of
 * the continuation region, not N².
 */
export function operatingCharacteristic(test: ShareTest, p: number): OperatingCharacteristic {
  const N = test.spec.maxRequests;
  let current = new Float64Array(N + 2);
  let next = new Float64Array(N + 2);
  current[0] = 1;
  let low = 0;
  let high = 0;
  let failBelow = 0;
  let failAbove = 0;
  let pass = 0;
  let expectedRequests = 0;
  for (let n = 1; n <= N && low <= high; n++) {
    // One more request: the count stays with probability 1 − p, or goes up by one.
    [current, next] = oneMoreRequest(current, next, low, high, p);
    const rejectLow = test.rejectAtOrBelow[n] ?? -1;
    const rejectHigh = test.rejectAtOrAbove[n] ?? n + 1;
    const from = test.acceptFrom[n] ?? 1;
    const to = test.acceptTo[n] ?? 0;
    let newLow = Number.POSITIVE_INFINITY;
    let newHigh = -1;
    let stopped = 0;
    for (let x = low; x <= high + 1; x++) {
      const mass = current[x] ?? 0;
      if (mass === 0) continue;
      if (x <= rejectLow) failBelow += mass;
      else if (x >= rejectHigh) failAbove += mass;
      else if (x >= from && x <= to) pass += mass;
      else {
        if (x < newLow) newLow = x;
        newHigh = x;
        continue;
      }
      stopped += mass;
      current[x] = 0;
    }
    expectedRequests += n * stopped;
    low = newLow;
    high = newHigh;
  }
  return { trueShare: p, failBelow: Math.min(1, failBelow), failAbove: Math.min(1, failAbove), pass: Math.min(1, pass), expectedRequests };
}

/**
 * The count's distribution after one more request, where the counts low…high carry the mass: each stays with
 * probability 1 − p or goes up by one. Returns [the new distribution, the cleared array to reuse].
 */
function oneMoreRequest(current: Float64Array<ArrayBuffer>, next: Float64Array<ArrayBuffer>, low: number, high: number, p: number): [Float64Array<ArrayBuffer>, Float64Array<ArrayBuffer>] {
  next.fill(0, low, high + 2);
  for (let x = low; x <= high; x++) {
    const mass = current[x] ?? 0;
    next[x] = (next[x] ?? 0) + mass * (1 - p);
    next[x + 1] = (next[x + 1] ?? 0) + mass * p;
  }
  current.fill(0, low, high + 1);
  return [next, current];
}

/**
 * Stagewise one-sided p-value of a failure at (n, count) on one side: under the share itself, the probability
 * that the test fails on that side at an earlier request, or reaches request n undecided with a count at
 * least as far out. It is at most that side's exact false-failure rate whenever (n, count) fails.
 */
export function stagewiseP(test: ShareTest, n: number, count: number, side: 'below' | 'above'): number {
  const p = test.spec.share;
  const N = Math.min(n, test.spec.maxRequests);
  let current = new Float64Array(N + 2);
  let next = new Float64Array(N + 2);
  current[0] = 1;
  let low = 0;
  let high = 0;
  let earlier = 0;
  for (let m = 1; m <= N; m++) {
    [current, next] = oneMoreRequest(current, next, low, high, p);
    high += 1;
    if (m === N) break;
    const rejectLow = test.rejectAtOrBelow[m] ?? -1;
    const rejectHigh = test.rejectAtOrAbove[m] ?? m + 1;
    const from = test.acceptFrom[m] ?? 1;
    const to = test.acceptTo[m] ?? 0;
    let newLow = Number.POSITIVE_INFINITY;
    let newHigh = -1;
    for (let x = low; x <= high; x++) {
      const mass = current[x] ?? 0;
      if (mass === 0) continue;
      const failedHere = side === 'below' ? x <= rejectLow : x >= rejectHigh;
      if (failedHere) earlier += mass;
      if (x <= rejectLow || x >= rejectHigh || (x >= from && x <= to)) current[x] = 0;
      else {
        if (x < newLow) newLow = x;
        newHigh = x;
      }
    }
    if (newHigh < 0) break;
    low = newLow;
    high = newHigh;
  }
  let tail = 0;
  for (let x = 0; x <= N; x++) if (side === 'below' ? x <= count : x >= count) tail += current[x] ?? 0;
  return Math.min(1, earlier + tail);
}

/** log of each alternative's likelihood ratio to the share, per request in the class (s1) and not (s0). */
function logRatios(share: number, q: number): { inClass: number; notInClass: number } {
  return {
    inClass: q > 0 ? Math.log(q / share) : Number.NEGATIVE_INFINITY,
    notInClass: q < 1 ? Math.log((1 - q) / (1 - share)) : Number.NEGATIVE_INFINITY,
  };
}

/** log LR of one alternative at (n, x); −∞ where the alternative cannot produce that count. */
function logLikelihoodRatio(r: { inClass: number; notInClass: number }, n: number, x: number): number {
  const inPart = x === 0 ? 0 : x * r.inClass;
  const outPart = n - x === 0 ? 0 : (n - x) * r.notInClass;
  return inPart + outPart;
}

const CONTINUE = 0;
const PASS = 1;
const FAIL = 2;

/**
 * Backward induction for given log-multipliers: the test minimising E_w[requests] + λ₀ P_w(fail) +
 * Σ λⱼ P_qⱼ(pass). Works on the counts where the value can be below λ₀ (elsewhere failing at once is
 * optimal: going on costs at least a request more and cannot end cheaper), which is exact, not a truncation.
 */
function lagrangeTest(spec: ShareTestSpec, logFailCost: number, logPassCosts: readonly number[]): Omit<ShareTest, 'healthy' | 'atAlternatives'> {
  const { share: w, maxRequests: N, fewestToPass } = spec;
  const ratios = spec.alternatives.map((q) => logRatios(w, q));
  const failCost = Math.exp(logFailCost);
  const rejectAtOrBelow = new Int32Array(N + 1);
  const acceptFrom = new Int32Array(N + 1);
  const acceptTo = new Int32Array(N + 1);
  const rejectAtOrAbove = new Int32Array(N + 1);
  let later = new Float64Array(N + 2);
  let now = new Float64Array(N + 2);
  const codes = new Int8Array(N + 2);
  // [laterLow, laterHigh]: the counts at n + 1 whose value is below λ₀ (empty: low > high).
  let laterLow = 1;
  let laterHigh = 0;
  for (let n = N; n >= 0; n--) {
    // Counts where passing could cost less than failing: every alternative's term must be below λ₀.
    let passLow = 0;
    let passHigh = n;
    if (n < fewestToPass) {
      passLow = 1;
      passHigh = 0;
    } else {
      for (let j = 0; j < ratios.length; j++) {
        const r = ratios[j]!;
        const budget = logFailCost - logPassCosts[j]!;
        // logLR is linear in x on 0 < x < n; find where it is below budget by its two ends and slope.
        const slope = r.inClass - r.notInClass;
        if (!Number.isFinite(slope)) {
          // q = 0 or 1: the alternative only produces x = 0 (or x = n); elsewhere its term is 0.
          const onlyAt = r.inClass === Number.NEGATIVE_INFINITY ? 0 : n;
          if (logLikelihoodRatio(r, n, onlyAt) >= budget) {
            if (onlyAt === 0) passLow = Math.max(passLow, 1);
            else passHigh = Math.min(passHigh, n - 1);
          }
          continue;
        }
        const at0 = n * r.notInClass;
        // at0 + slope·x < budget
        if (slope > 0) passHigh = Math.min(passHigh, Math.ceil((budget - at0) / slope) - 1);
        else if (slope < 0) passLow = Math.max(passLow, Math.floor((budget - at0) / slope) + 1);
        else if (at0 >= budget) passHigh = -1;
      }
    }
    let low = n === N ? passLow : Math.min(passLow, laterLow - 1);
    let high = n === N ? passHigh : Math.max(passHigh, laterHigh);
    if (passLow > passHigh) {
      low = laterLow - 1;
      high = laterHigh;
    }
    if (n < N && laterLow > laterHigh) {
      low = passLow;
      high = passHigh;
    }
    low = Math.max(0, low);
    high = Math.min(n, high);
    let valueLow = Number.POSITIVE_INFINITY;
    let valueHigh = -1;
    for (let x = low; x <= high; x++) {
      let passCost = Number.POSITIVE_INFINITY;
      if (x >= passLow && x <= passHigh) {
        passCost = 0;
        for (let j = 0; j < ratios.length; j++) passCost += Math.exp(logPassCosts[j]! + logLikelihoodRatio(ratios[j]!, n, x));
      }
      const stopCost = Math.min(failCost, passCost);
      let value = stopCost;
      let code = passCost <= failCost ? PASS : FAIL;
      if (n < N) {
        const stay = x >= laterLow && x <= laterHigh ? (later[x] ?? failCost) : failCost;
        const up = x + 1 >= laterLow && x + 1 <= laterHigh ? (later[x + 1] ?? failCost) : failCost;
        const goOn = 1 + w * up + (1 - w) * stay;
        if (goOn < stopCost) {
          value = goOn;
          code = CONTINUE;
        }
      }
      now[x] = value;
      codes[x] = code;
      if (value < failCost) {
        if (x < valueLow) valueLow = x;
        valueHigh = x;
      }
    }
    // Read the five regions off the codes: fail | continue | pass | continue | fail. The optimum has that shape;
    // where rounding blurs a near-tie (multipliers so large that a request's cost of 1 is below their last
    // digit), a stray fail or continue inside is read as continue or pass. The exact error rates are computed
    // afterwards on the regions as read, so this can cost optimality, never the guarantees.
    let firstNotFail = low;
    while (firstNotFail <= high && codes[firstNotFail] === FAIL) firstNotFail++;
    let lastNotFail = high;
    while (lastNotFail >= firstNotFail && codes[lastNotFail] === FAIL) lastNotFail--;
    let from = n + 1;
    let to = n;
    for (let x = firstNotFail; x <= lastNotFail; x++) {
      if (codes[x] !== PASS) continue;
      if (from > n) from = x;
      to = x;
    }
    rejectAtOrBelow[n] = firstNotFail > high ? n : firstNotFail - 1;
    rejectAtOrAbove[n] = firstNotFail > high ? n + 1 : lastNotFail + 1;
    if (firstNotFail > high) {
      // Every count fails (only possible when nothing is worth continuing): say so with the low region alone.
      rejectAtOrBelow[n] = n;
    }
    acceptFrom[n] = from;
    acceptTo[n] = from > n ? n - 1 : to;
    [later, now] = [now, later];
    laterLow = valueLow;
    laterHigh = valueHigh;
  }
  // No decision before the first request.
  rejectAtOrBelow[0] = -1;
  rejectAtOrAbove[0] = 1;
  acceptFrom[0] = 1;
  acceptTo[0] = 0;
  return { spec, rejectAtOrBelow, acceptFrom, acceptTo, rejectAtOrAbove };
}

function characterise(base: Omit<ShareTest, 'healthy' | 'atAlternatives'>): ShareTest {
  const partial = { ...base, healthy: undefined as unknown as OperatingCharacteristic, atAlternatives: [] };
  const healthy = operatingCharacteristic(partial, base.spec.share);
  const atAlternatives = base.spec.alternatives.map((q) => operatingCharacteristic(partial, q));
  return { ...base, healthy, atAlternatives };
}

/** Within this relative distance below a budget, the tuning stops: the last 1 % would save a fraction of a request. */
const TUNING_TOLERANCE = 0.01;

/** Kullback–Leibler divergence of Bernoulli(q) from Bernoulli(w), finite even at q = 0 or 1 (then it is read q → w). */
function divergence(w: number, q: number): number {
  const term = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  const forward = term(w, q) + term(1 - w, 1 - q);
  return Number.isFinite(forward) ? forward : term(q, w) + term(1 - q, 1 - w);
}

/**
 * One multiplier's search for an error rate within [lowest, highest]: Newton steps in log-log, the slope
 * re-estimated by secant, safeguarded by the bracket the rounds so far establish (a step that would leave it
 * bisects it instead). An error rate falls as its multiplier rises.
 */
class LogSearch {
  private slope = 1;
  private last: { logCost: number; logError: number } | undefined;
  private atLeast = Number.NEGATIVE_INFINITY;
  private atMost = Number.POSITIVE_INFINITY;
  constructor(
    public logCost: number,
    private readonly maxStep: number,
  ) {}
  /** Forget the bracket (after another multiplier moved, the old one may no longer hold). */
  forgetBracket(): void {
    this.atLeast = Number.NEGATIVE_INFINITY;
    this.atMost = Number.POSITIVE_INFINITY;
  }
  /**
   * True once the bracket is too narrow to hold an error rate in the window: the count's discreteness makes
   * the rate jump across it there. The search then stays on the side within the budget.
   */
  get settled(): boolean {
    return this.atMost - this.atLeast < 1e-3;
  }
  /** Move given the error rate the current logCost produced. */
  step(error: number, lowest: number, highest: number): void {
    if (error > highest) this.atLeast = Math.max(this.atLeast, this.logCost);
    if (error < lowest) this.atMost = Math.min(this.atMost, this.logCost);
    let proposal: number;
    if (error > 0 && error < 0.5) {
      const logError = Math.log(error);
      if (this.last && Math.abs(this.logCost - this.last.logCost) > 1e-6) {
        const slope = -(logError - this.last.logError) / (this.logCost - this.last.logCost);
        if (Number.isFinite(slope)) this.slope = Math.min(3, Math.max(0.3, slope));
      }
      this.last = { logCost: this.logCost, logError };
      const aim = Math.log((lowest + highest) / 2);
      proposal = this.logCost + Math.max(-this.maxStep, Math.min(this.maxStep, (logError - aim) / this.slope));
    } else {
      // No error at all (a slack budget) or nearly all (a degenerate test): a unit step, nothing learnt.
      proposal = this.logCost + (error === 0 ? -1 : 1);
    }
    if (this.settled) proposal = this.atMost;
    else if (proposal <= this.atLeast || proposal >= this.atMost) {
      proposal = Number.isFinite(this.atLeast) && Number.isFinite(this.atMost) ? (this.atLeast + this.atMost) / 2 : proposal <= this.atLeast ? this.atLeast + 0.5 : this.atMost - 0.5;
    }
    this.logCost = proposal;
  }
}

/** Rounds of the search; each builds and characterises one test (a few milliseconds for a thousand requests). */
const PASS_ROUNDS = 8;
const FAIL_ROUNDS = 12;

/**
 * The test of one share, tuned so that its exact error rates are within their budgets. Deterministic in the
 * spec; throws if no round met the budgets (then maxRequests is too small for them).
 *
 * The search is nested. Inside, each pass multiplier λⱼ is moved until the miss rate against its alternative
 * is just under β: those figures drive the expected number of requests (about 1/KL requests per unit of
 * ln β), and each depends almost only on its own λⱼ. Outside, λ₀ is moved until the false-failure rate is
 * within [½, 1] of its budget: the expected number of requests hardly depends on it (λ₀·α ≈ 0.1 request per
 * unit of ln α at α = 1e-4), so half the budget is close enough, and exactly on it is often impossible (a
 * single boundary count can carry a sizeable share of α). Of every test built the one with the fewest
 * expected requests among those within all budgets is returned.
 */
export function designShareTest(spec: ShareTestSpec): ShareTest {
  // Start from the multipliers of Wald's SPRT (each is minus the derivative of the expected sample size by its
  // error rate): λⱼ ≈ 1 / (β·KLⱼ), λ₀ ≈ (ln 1/α + ln 1/β) / KL, KL the divergence of an alternative from the share.
  const divergences = spec.alternatives.map((q) => divergence(spec.share, q));
  const failSearch = new LogSearch(Math.log((Math.log(1 / spec.alpha) + Math.log(1 / spec.beta)) / Math.min(...divergences)), 8);
  const passSearches = divergences.map((kl) => new LogSearch(Math.log(1 / (spec.beta * kl)), 1));
  let best: ShareTest | undefined;
  for (let outer = 0; outer < FAIL_ROUNDS; outer++) {
    let test: ShareTest | undefined;
    passSearches.forEach((search) => search.forgetBracket());
    for (let inner = 0; inner < PASS_ROUNDS; inner++) {
      test = characterise(lagrangeTest(spec, failSearch.logCost, passSearches.map((s) => s.logCost)));
      const misses = test.atAlternatives.map((a) => a.pass);
      const falseFailures = test.healthy.failBelow + test.healthy.failAbove;
      if (falseFailures <= spec.alpha && misses.every((m) => m <= spec.beta)) {
        if (!best || test.healthy.expectedRequests < best.healthy.expectedRequests) best = test;
      }
      if (falseFailures >= 0.5) break; // degenerate: the failure cost must rise first
      const settled = misses.every((m, j) => m <= spec.beta && (m >= spec.beta * (1 - 2 * TUNING_TOLERANCE) || passSearches[j]!.settled));
      if (settled) break;
      misses.forEach((m, j) => passSearches[j]!.step(m, spec.beta * (1 - 2 * TUNING_TOLERANCE), spec.beta));
    }
    const falseFailures = test!.healthy.failBelow + test!.healthy.failAbove;
    if (best && falseFailures <= spec.alpha && falseFailures >= spec.alpha / 2) break;
    failSearch.step(falseFailures, spec.alpha / 2, spec.alpha);
  }
  if (best) return best;
  throw new RangeError(
    `no test of share ${spec.share} within ${spec.maxRequests} requests meets α = ${spec.alpha} and β = ${spec.beta}: allow more requests`,
  );
}
