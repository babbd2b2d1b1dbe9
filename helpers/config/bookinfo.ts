/**
 * What Bookinfo's answers say about who served them, read from the body text: pure functions, and the words
 * they return are the vocabulary the feature catalogue's matchers and the verdicts count in ("reviews-v2",
 * "ratings-unavailable"). They are knowledge of the application under test, like the catalogue beside them, so
 * they sit in config/, below every stage that reads an answer: readiness waits until each reviews version has
 * answered, observe classifies every request, the steps read the product page.
 *
 * Upstream files the markers below come from (istio/istio):
 *   - samples/bookinfo/src/productpage/templates/productpage.html   the Tailwind page (images 1.20.1+)
 *   - samples/bookinfo/src/productpage/productpage.py                error texts, /api/v1 routes
 *   - samples/bookinfo/src/reviews/reviews-application/src/main/java/application/rest/LibertyRestEndpoint.java
 *                                                                    the reviews JSON (podname, rating)
 */

// ---------------------------------------------------------------------------------------------------------
// Classes a classifier returns: the vocabulary verdicts count in.

/** reviews-v1 … reviews-vN: the version that served the request. */
export type ReviewsVersionClass = `reviews-v${number}`;
/** productpage could not get reviews at all (its own JSON `error`, or the page's "Error fetching product reviews"). */
export const REVIEWS_UNAVAILABLE = 'reviews-unavailable';
/** reviews answered, but every rating it carried was `{"error": "Ratings service is currently unavailable"}`. */
export const RATINGS_UNAVAILABLE = 'ratings-unavailable';
/** The signals disagree (the pod name says v2, the stars are red): a broken double or a broken mesh, never a guess. */
export const REVIEWS_CONFLICT = 'reviews-conflict';
/** Not a response this module knows how to read (not JSON, the old Bootstrap page, a proxy's error body). */
export const UNRECOGNISED = 'unrecognised';

export type ReviewsClass =
  | ReviewsVersionClass
  | typeof REVIEWS_UNAVAILABLE
  | typeof RATINGS_UNAVAILABLE
  | typeof REVIEWS_CONFLICT
  | typeof UNRECOGNISED;

/** A full reading: the class a verdict counts, plus what it was read from (for failure messages). */
export interface ReviewsReading {
  class: ReviewsClass;
  /** The reviews pod name, when the response carried one. */
  podname?: string;
  /** The version read from the pod name prefix (`reviews-v2-…` → reviews-v2). */
  versionFromPodname?: ReviewsVersionClass;
  /** The version read from the rating shape or the stars' colour. */
  versionFromShape?: ReviewsVersionClass;
  /** Why the class is what it is, in words. */
  why: string;
}

// Deployment pods are named <deployment>-<replicaset hash>-<suffix>; the Deployments are reviews-v1/-v2/-v3
// (samples/bookinfo/platform/kube/bookinfo.yaml), and reviews reports $HOSTNAME as `podname`.
const podnameVersion = /^reviews-(v\d+)-/;

function versionOfPod(podname: string | undefined): ReviewsVersionClass | undefined {
  const match = podname === undefined ? null : podnameVersion.exec(podname);
  return match ? (`reviews-${match[1]}` as ReviewsVersionClass) : undefined;
}

/** Combines the pod name's version with the shape's; either may be missing, but they must not disagree. */
function combine(
  podname: string | undefined,
  fromShape: ReviewsVersionClass | undefined,
  shapeWhy: string,
): ReviewsReading {
  const fromPod = versionOfPod(podname);
  const base = { podname, versionFromPodname: fromPod, versionFromShape: fromShape };
  if (fromPod && fromShape && fromPod !== fromShape) {
    return { ...base, class: REVIEWS_CONFLICT, why: `pod ${podname} is ${fromPod}, but ${shapeWhy}` };
  }
  const version = fromPod ?? fromShape;
  if (!version) return { ...base, class: UNRECOGNISED, why: `no pod name and ${shapeWhy}` };
  return { ...base, class: version, why: fromPod ? `pod ${podname}; ${shapeWhy}` : shapeWhy };
}

// ---------------------------------------------------------------------------------------------------------
// The reviews JSON: GET /api/v1/products/0/reviews (productpage passes the reviews body through).

/**
 * Reads the reviews JSON. LibertyRestEndpoint.java builds it by string concatenation:
 * `{"id": "0", "podname": "<$HOSTNAME>", "clustername": "<$CLUSTER_NAME or null>", "reviews": [...]}`;
 * each review has `rating` only when ENABLE_RATINGS=true (v2, v3): `{"stars": n, "color": "black"|"red"}`
 * (STAR_COLOR: black for v2, red for v3), or `{"error": "Ratings service is currently unavailable"}` when
 * ratings failed. productpage.py answers `{"error": "Sorry, product reviews are currently unavailable for
 * this book."}` when reviews did not answer.
 */
export function readReviewsJson(body: string): ReviewsReading {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { class: UNRECOGNISED, why: `not JSON: ${JSON.stringify(body.slice(0, 80))}` };
  }
  if (!isObject(doc)) return { class: UNRECOGNISED, why: 'JSON, but not an object' };
  if (typeof doc.error === 'string' && !('reviews' in doc)) {
    return { class: REVIEWS_UNAVAILABLE, why: `productpage says: ${doc.error}` };
  }
  const podname = typeof doc.podname === 'string' ? doc.podname : undefined;
  if (!Array.isArray(doc.reviews) || doc.reviews.length === 0) {
    return { class: UNRECOGNISED, podname, why: 'no `reviews` array' };
  }
  const ratings = doc.reviews.map((review) => (isObject(review) ? review.rating : undefined));
  if (ratings.every((rating) => rating === undefined)) return combine(podname, 'reviews-v1', 'no ratings (v1 shape)');
  if (ratings.every((rating) => isObject(rating) && typeof rating.error === 'string')) {
    // Only v2 and v3 call ratings; the pod name still tells which, but the class is the failure.
    return { ...combine(podname, undefined, 'ratings failed'), class: RATINGS_UNAVAILABLE };
  }
  const colours = new Set(ratings.map((rating) => (isObject(rating) ? rating.color : undefined)));
  if (colours.size === 1 && colours.has('black')) return combine(podname, 'reviews-v2', 'black stars (v2 shape)');
  if (colours.size === 1 && colours.has('red')) return combine(podname, 'reviews-v3', 'red stars (v3 shape)');
  return { ...combine(podname, undefined, 'the ratings are mixed'), class: REVIEWS_CONFLICT };
}

/**
 * The reviews version from the start of a reviews body only (an in-mesh batch keeps the first characters):
 * LibertyRestEndpoint.java writes `{"id": "0","podname": "reviews-v2-…` first, and the pod name starts with the
 * Deployment's name.
 */
export function reviewsVersionFromStart(status: number, bodyStart: string): ReviewsVersionClass | undefined {
  if (status !== 200) return undefined;
  return /"podname"\s*:\s*"(reviews-v\d+)-/.exec(bodyStart)?.[1] as ReviewsVersionClass | undefined;
}

/** The classifier for `/api/v1/products/0/reviews`: "reviews-v2", "ratings-unavailable", … */
export function reviewsVersionFromJson(body: string): ReviewsClass {
  return readReviewsJson(body).class;
}

// ---------------------------------------------------------------------------------------------------------
// The product page: GET /productpage (always 200; everything is in the HTML).

// templates/productpage.html: `<title>Simple Bookstore App</title>`, in both the old and the current page.
const titleMarker = '<title>Simple Bookstore App</title>';
// templates/productpage.html renders each filled star as `<svg id="glyphicon glyphicon-star" class="h-5 w-5
// flex-none" …>` (the id was added upstream in be755b2 / istio#51373 so istio.io's tests keep matching);
// empty stars are SVGs without an id. The closing quote matters: the old Bootstrap page had
// `<span class="glyphicon glyphicon-star">` (a class, not an id) and `glyphicon-star-empty`.
const filledStar = /<svg\b[^>]*\bid="glyphicon glyphicon-star"/g;
// templates/productpage.html: `<div class="flex gap-x-1 text-{{ review.rating.color }}-500">` wraps the
// stars. `text-red-500` alone also styles the error paragraphs below, so only `gap-x-1 text-<colour>-500`
// says anything about the version.
const starColour = /\bgap-x-1 text-(black|red)-500\b/g;
// templates/productpage.html: `Reviews served by: {{ reviews.podname }}` under each review (whitespace and a
// newline in between), then `on cluster <div>…` only when clustername != "null".
const servedBy = /Reviews served by:\s*([a-z0-9][a-z0-9.-]*)/g;
// templates/productpage.html, current page only: the reviews heading `<h4 class="text-3xl font-semibold">`.
// The old Bootstrap page had `<h4 class="text-center text-primary">Book Reviews</h4>`.
const currentReviewsHeading = /<h4 class="text-3xl font-semibold">Book Reviews<\/h4>/;
// The old Bootstrap page (images before 1.20.0): `<font color="…">` around `<span class="glyphicon …">`.
const oldMarkup = /<span class="glyphicon glyphicon-star(-empty)?"|<font color=/;

// Error texts. templates/productpage.html: `<p class="text-2xl text-red-500">Error fetching product
// reviews</p>` (no "!", unlike istio.io's fault-injection page and the old template) followed by
// `{{ reviews.error }}`, which productpage.py sets to "Sorry, product reviews are currently unavailable for
// this book."; the same pair for details; and `<p class="text-red-500">{{ review.rating.error }}</p>` once
// per review, with LibertyRestEndpoint.java's "Ratings service is currently unavailable".
const reviewsErrorHeading = /Error fetching product reviews/g;
const reviewsErrorText = /Sorry, product reviews are currently unavailable for this book\./g;
const detailsErrorHeading = /Error fetching product details/g;
const detailsErrorText = /Sorry, product details are currently unavailable for this book\./g;
const ratingsErrorText = /Ratings service is currently unavailable/g;

/** How often each failure text appears on one product page; all zero on a healthy page. */
export interface ProductPageProblems {
  /** productpage got no reviews (both attempts failed or timed out): 1 on such a page. */
  reviewsUnavailable: number;
  /** productpage got no details: 1 on such a page. */
  detailsUnavailable: number;
  /** reviews v2/v3 got no ratings: one per review, so 2 on such a page. */
  ratingsUnavailable: number;
}

export function productPageProblems(html: string): ProductPageProblems {
  const count = (pattern: RegExp) => html.match(pattern)?.length ?? 0;
  return {
    // Either line alone is enough: a page whose `reviews` dict was empty prints only the heading.
    reviewsUnavailable: Math.max(count(reviewsErrorHeading), count(reviewsErrorText)),
    detailsUnavailable: Math.max(count(detailsErrorHeading), count(detailsErrorText)),
    ratingsUnavailable: count(ratingsErrorText),
  };
}

/** The names of the problems present ("reviews unavailable", …), for messages and classifications. */
export function problemNames(problems: ProductPageProblems): string[] {
  const names: string[] = [];
  if (problems.reviewsUnavailable) names.push('reviews unavailable');
  if (problems.detailsUnavailable) names.push('details unavailable');
  if (problems.ratingsUnavailable) names.push(`ratings unavailable ×${problems.ratingsUnavailable}`);
  return names;
}

/** Reads the product page: which reviews version rendered it, or which failure it shows. */
export function readProductPage(html: string): ReviewsReading {
  if (!html.includes(titleMarker)) return { class: UNRECOGNISED, why: 'not the Bookinfo product page (no title)' };
  const problems = productPageProblems(html);
  if (problems.reviewsUnavailable) return { class: REVIEWS_UNAVAILABLE, why: 'the page says reviews are unavailable' };

  const pods = new Set([...html.matchAll(servedBy)].map((match) => match[1] as string));
  if (pods.size > 1) return { class: REVIEWS_CONFLICT, why: `served by several pods: ${[...pods].join(', ')}` };
  const podname = pods.values().next().value;
  const current = podname !== undefined || currentReviewsHeading.test(html);
  if (!current) {
    const why = oldMarkup.test(html)
      ? 'the old Bootstrap markup (images before 1.20.0), which this suite does not read'
      : 'no reviews section in the current markup';
    return { class: UNRECOGNISED, why };
  }

  if (problems.ratingsUnavailable) {
    return { ...combine(podname, undefined, 'ratings failed'), class: RATINGS_UNAVAILABLE };
  }
  const stars = html.match(filledStar)?.length ?? 0;
  const colours = new Set([...html.matchAll(starColour)].map((match) => match[1]));
  if (colours.size > 1) return { ...combine(podname, undefined, 'both black and red stars'), class: REVIEWS_CONFLICT };
  if (colours.size === 0) {
    return stars === 0
      ? combine(podname, 'reviews-v1', 'no stars (v1 shape)')
      : { ...combine(podname, undefined, `${stars} stars but no colour`), class: REVIEWS_CONFLICT };
  }
  const colour = colours.has('red') ? 'red' : 'black';
  return combine(podname, colour === 'red' ? 'reviews-v3' : 'reviews-v2', `${stars} ${colour} stars`);
}

/** The classifier for `/productpage`: "reviews-v3", "reviews-unavailable", … */
export function reviewsVersionFromHtml(html: string): ReviewsClass {
  return readProductPage(html).class;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
