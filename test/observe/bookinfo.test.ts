import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultTimeouts } from '../../helpers/config/timeouts.ts';
import {
  loginAs,
  LoginError,
  logout,
  productPageProblems,
  problemNames,
  RATINGS_UNAVAILABLE,
  readProductPage,
  readReviewsJson,
  REVIEWS_CONFLICT,
  REVIEWS_UNAVAILABLE,
  reviewsVersionFromHtml,
  reviewsVersionFromJson,
  sessionPair,
  UNRECOGNISED,
} from '../../helpers/observe/bookinfo.ts';
import { sendTraffic } from '../../helpers/observe/traffic.ts';
import { startBookinfoDouble, type BookinfoDouble, type ReviewsVersion } from '../support/bookinfo-double.ts';
import { startStaticHttpServer } from '../support/static-http-server.ts';

const t = { request: defaultTimeouts.request, batch: 5_000 };

let double: BookinfoDouble;
beforeAll(async () => {
  double = await startBookinfoDouble({ seed: 3 });
});
afterAll(() => double.stop());
beforeEach(() => {
  double.setOptions({
    weights: undefined,
    userRoutes: undefined,
    reviewsUnavailable: false,
    ratingsUnavailable: false,
    detailsUnavailable: false,
  });
  double.resetStats();
});

async function fetchText(path: string, cookie?: string): Promise<{ status: number; body: string }> {
  const [record] = await sendTraffic({
    baseUrl: double.url,
    path,
    count: 1,
    concurrency: 1,
    deadlineMs: t.batch,
    requestTimeoutMs: t.request,
    cookie,
    classify: (response) => response.body,
  });
  return { status: record!.status, body: record!.classification ?? '' };
}

describe('loginAs', () => {
  it('takes the session cookie from the 302 and does not follow `Location: None`', async () => {
    const session = await loginAs(double.url, 'jason', { timeoutMs: t.request });
    expect(session.user).toBe('jason');
    expect(session.cookie).toMatch(/^session=[^;\s]+$/);
    const stats = double.stats();
    expect(stats.byPath).toEqual({ '/login': 1 }); // no GET /None
    expect(stats.recent[0]).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await logout(double.url, session, { timeoutMs: t.request });
    expect(double.stats().byPath['/logout']).toBe(1);
  });

  it('fails clearly when the answer carries no session cookie', async () => {
    const server = await startStaticHttpServer({ '/login': { body: 'ok' } });
    try {
      await expect(loginAs(server.url, 'jason', { timeoutMs: t.request })).rejects.toThrow(
        /logging in to Bookinfo as jason at .*\/login gave no session cookie \(HTTP 200, no Set-Cookie\)/,
      );
    } finally {
      await server.close();
    }
    const gone = await startBookinfoDouble();
    await gone.stop();
    await expect(loginAs(gone.url, 'jason', { timeoutMs: t.request })).rejects.toBeInstanceOf(LoginError);
    double.setOptions({ latencyMs: 300 });
    try {
      await expect(loginAs(double.url, 'jason', { timeoutMs: 50 })).rejects.toThrow(/: no answer within 50 ms$/);
    } finally {
      double.setOptions({ latencyMs: 0 });
    }
  });

  it('reads the session pair from Set-Cookie lines and ignores an emptied cookie', () => {
    expect(sessionPair(['other=1; Path=/', 'session=eyJ.abc.def; HttpOnly; Path=/'])).toBe('session=eyJ.abc.def');
    expect(sessionPair(['session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/'])).toBeUndefined();
    expect(sessionPair([])).toBeUndefined();
  });
});

describe('user routing needs the session, not an end-user header', () => {
  it('routes jason to v2 every time; the header alone and other users get the split', async () => {
    double.setOptions({ weights: { v1: 1, v3: 1 }, userRoutes: { jason: 'v2' } });
    const jason = await loginAs(double.url, 'jason', { timeoutMs: t.request });
    const base = { baseUrl: double.url, count: 30, concurrency: 3, deadlineMs: t.batch, requestTimeoutMs: t.request };

    const asJason = await sendTraffic({
      ...base,
      path: '/api/v1/products/0/reviews',
      session: jason,
      classify: (r) => reviewsVersionFromJson(r.body),
    });
    expect(asJason.map((r) => r.classification)).toEqual(Array(30).fill('reviews-v2'));
    const pagesAsJason = await sendTraffic({
      ...base,
      path: '/productpage',
      session: jason,
      classify: (r) => reviewsVersionFromHtml(r.body),
    });
    expect(pagesAsJason.map((r) => r.classification)).toEqual(Array(30).fill('reviews-v2'));

    const headerOnly = await sendTraffic({
      ...base,
      path: '/api/v1/products/0/reviews',
      headers: { 'end-user': 'jason' },
      classify: (r) => reviewsVersionFromJson(r.body),
    });
    expect(headerOnly.filter((r) => r.classification === 'reviews-v2')).toEqual([]);
    expect(new Set(headerOnly.map((r) => r.classification))).toEqual(new Set(['reviews-v1', 'reviews-v3']));
    expect(double.stats().endUserHeaders).toBe(30);

    const alice = await loginAs(double.url, 'alice', { timeoutMs: t.request });
    const asAlice = await sendTraffic({
      ...base,
      path: '/api/v1/products/0/reviews',
      session: alice,
      classify: (r) => reviewsVersionFromJson(r.body),
    });
    expect(asAlice.some((r) => r.classification === 'reviews-v2')).toBe(false);
  });
});

describe('a delay that matches the user', () => {
  it('slows only the logged-in user it names', async () => {
    double.setOptions({ userLatencyMs: { jason: 150 } });
    try {
      const jason = await loginAs(double.url, 'jason', { timeoutMs: t.request });
      const base = { baseUrl: double.url, path: '/productpage', count: 2, concurrency: 2, deadlineMs: t.batch };
      const slow = await sendTraffic({ ...base, requestTimeoutMs: t.request, session: jason });
      const fast = await sendTraffic({ ...base, requestTimeoutMs: t.request, headers: { 'end-user': 'jason' } });
      expect(slow.every((r) => r.status === 200 && r.latencyMs >= 145)).toBe(true);
      expect(fast.every((r) => r.status === 200 && r.latencyMs < 145)).toBe(true);
    } finally {
      double.setOptions({ userLatencyMs: undefined });
    }
  });
});

describe('classifiers on the double’s pages and JSON', () => {
  it.each(['v1', 'v2', 'v3'] as ReviewsVersion[])('reads %s from both the JSON and the page', async (version) => {
    double.setOptions({ weights: { [version]: 1 } });
    const json = await fetchText('/api/v1/products/0/reviews');
    expect(JSON.parse(json.body).id).toBe('0');
    expect(readReviewsJson(json.body)).toMatchObject({
      class: `reviews-${version}`,
      versionFromPodname: `reviews-${version}`,
      versionFromShape: `reviews-${version}`,
    });
    const page = await fetchText('/productpage');
    expect(page.status).toBe(200);
    expect(readProductPage(page.body)).toMatchObject({
      class: `reviews-${version}`,
      podname: expect.stringMatching(new RegExp(`^reviews-${version}-`)),
    });
    expect(productPageProblems(page.body)).toEqual({ reviewsUnavailable: 0, detailsUnavailable: 0, ratingsUnavailable: 0 });
    expect(page.body.match(/id="glyphicon glyphicon-star"/g)?.length ?? 0).toBe(version === 'v1' ? 0 : 9);
  });

  it('reads a ratings outage: 200, two error paragraphs, no stars', async () => {
    double.setOptions({ weights: { v3: 1 }, ratingsUnavailable: true });
    const json = await fetchText('/api/v1/products/0/reviews');
    expect(json.status).toBe(200);
    expect(readReviewsJson(json.body)).toMatchObject({ class: RATINGS_UNAVAILABLE, versionFromPodname: 'reviews-v3' });
    const page = await fetchText('/productpage');
    expect(reviewsVersionFromHtml(page.body)).toBe(RATINGS_UNAVAILABLE);
    expect(productPageProblems(page.body)).toEqual({ reviewsUnavailable: 0, detailsUnavailable: 0, ratingsUnavailable: 2 });
    expect(problemNames(productPageProblems(page.body))).toEqual(['ratings unavailable ×2']);
  });

  it('reads a reviews outage: the page stays 200, the API says 500', async () => {
    double.setOptions({ reviewsUnavailable: true });
    const page = await fetchText('/productpage');
    expect(page.status).toBe(200);
    expect(reviewsVersionFromHtml(page.body)).toBe(REVIEWS_UNAVAILABLE);
    expect(productPageProblems(page.body).reviewsUnavailable).toBe(1);
    const json = await fetchText('/api/v1/products/0/reviews');
    expect(json.status).toBe(500);
    expect(reviewsVersionFromJson(json.body)).toBe(REVIEWS_UNAVAILABLE);
  });

  it('reads a details outage and still the version (its red error text is not v3)', async () => {
    double.setOptions({ weights: { v1: 1 }, detailsUnavailable: true });
    const page = await fetchText('/productpage');
    expect(page.body).toContain('text-2xl text-red-500');
    expect(productPageProblems(page.body)).toEqual({ reviewsUnavailable: 0, detailsUnavailable: 1, ratingsUnavailable: 0 });
    expect(reviewsVersionFromHtml(page.body)).toBe('reviews-v1');
  });
});

// Hand-written pages: the pieces of markup that matter, nothing else.
const page = (body: string) => `<html><head><title>Simple Bookstore App</title></head><body>${body}</body></html>`;
const star = '<svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20"><path d="M0"/></svg>';
const served = (pod: string) => `<div class="mt-0.5 text-gray-600 font-mono">Reviews served by: \n   ${pod}\n  </div>`;
const heading = '<h4 class="text-3xl font-semibold">Book Reviews</h4>';

describe('reviewsVersionFromHtml edge cases', () => {
  it('does not read the old Bootstrap markup as any version', () => {
    const oldV3 = page(
      '<h4 class="text-center text-primary">Book Reviews</h4><blockquote><p>…</p>' +
        '<font color="red"><span class="glyphicon glyphicon-star"></span>' +
        '<span class="glyphicon glyphicon-star-empty"></span></font></blockquote>',
    );
    expect(readProductPage(oldV3)).toMatchObject({ class: UNRECOGNISED, why: expect.stringContaining('old Bootstrap') });
    const oldV1 = page(
      '<h4 class="text-center text-primary">Book Reviews</h4><blockquote><p>…</p><small>Reviewer1</small></blockquote>',
    );
    expect(reviewsVersionFromHtml(oldV1)).toBe(UNRECOGNISED); // no stars, but not the current page: not "v1"
  });

  it('does not read text-red-500 in an error paragraph as v3', () => {
    const v1WithDetailsError = page(
      '<p class="text-2xl text-red-500">Error fetching product details</p>' + heading + served('reviews-v1-abc-12345'),
    );
    expect(reviewsVersionFromHtml(v1WithDetailsError)).toBe('reviews-v1');
    const ratingsError = page(
      heading + '<p class="text-red-500">Ratings service is currently unavailable</p>' + served('reviews-v3-abc-1'),
    );
    expect(reviewsVersionFromHtml(ratingsError)).toBe(RATINGS_UNAVAILABLE);
  });

  it('reads the colour only from the star container and cross-checks it with the pod name', () => {
    const red = `<div class="flex gap-x-1 text-red-500">${star.repeat(5)}</div>`;
    const black = `<div class="flex gap-x-1 text-black-500">${star.repeat(5)}</div>`;
    expect(reviewsVersionFromHtml(page(heading + red + served('reviews-v3-x-y')))).toBe('reviews-v3');
    expect(reviewsVersionFromHtml(page(heading + black))).toBe('reviews-v2'); // no pod name: the shape decides
    expect(readProductPage(page(heading + red + served('reviews-v2-x-y')))).toMatchObject({
      class: REVIEWS_CONFLICT,
      why: expect.stringContaining('pod reviews-v2-x-y is reviews-v2, but 5 red stars'),
    });
    expect(reviewsVersionFromHtml(page(heading + red + black + served('reviews-v3-x-y')))).toBe(REVIEWS_CONFLICT);
    const noColour = page(heading + star + served('reviews-v2-x-y'));
    expect(reviewsVersionFromHtml(noColour)).toBe(REVIEWS_CONFLICT);
    const twoPods = page(heading + served('reviews-v1-a-b') + served('reviews-v2-a-b'));
    expect(reviewsVersionFromHtml(twoPods)).toBe(REVIEWS_CONFLICT);
  });

  it('counts failure texts, with or without the old "!"', () => {
    const html = page(
      '<p class="text-2xl text-red-500">Error fetching product reviews</p>' +
        '<p class="text-lg text-gray-600">Sorry, product reviews are currently unavailable for this book.</p>' +
        '<p class="text-2xl text-red-500">Error fetching product details</p>',
    );
    expect(productPageProblems(html)).toEqual({ reviewsUnavailable: 1, detailsUnavailable: 1, ratingsUnavailable: 0 });
    expect(problemNames(productPageProblems(html))).toEqual(['reviews unavailable', 'details unavailable']);
    expect(reviewsVersionFromHtml(html)).toBe(REVIEWS_UNAVAILABLE);
    expect(productPageProblems('<h4>Error fetching product reviews!</h4>').reviewsUnavailable).toBe(1);
  });

  it('does not read something other than the product page', () => {
    expect(readProductPage('upstream connect error or disconnect/reset before headers')).toMatchObject({
      class: UNRECOGNISED,
      why: expect.stringContaining('no title'),
    });
    expect(reviewsVersionFromHtml(page('<p>maintenance</p>'))).toBe(UNRECOGNISED);
  });
});

describe('reviewsVersionFromJson edge cases', () => {
  const json = (doc: unknown) => JSON.stringify(doc);
  const reviews = (rating?: unknown) => [
    { reviewer: 'Reviewer1', text: 'a', ...(rating === undefined ? {} : { rating }) },
    { reviewer: 'Reviewer2', text: 'b', ...(rating === undefined ? {} : { rating }) },
  ];

  it('reads the version from the shape when there is no pod name', () => {
    expect(reviewsVersionFromJson(json({ id: '0', reviews: reviews() }))).toBe('reviews-v1');
    expect(reviewsVersionFromJson(json({ id: '0', reviews: reviews({ stars: 5, color: 'black' }) }))).toBe('reviews-v2');
    expect(reviewsVersionFromJson(json({ id: '0', reviews: reviews({ stars: 5, color: 'red' }) }))).toBe('reviews-v3');
  });

  it('refuses to guess when pod name and shape disagree, or the ratings are mixed', () => {
    const pod = 'reviews-v3-6f9b8d5c4-x2x7k';
    expect(readReviewsJson(json({ podname: pod, reviews: reviews({ stars: 4, color: 'black' }) }))).toMatchObject({
      class: REVIEWS_CONFLICT,
      why: 'pod reviews-v3-6f9b8d5c4-x2x7k is reviews-v3, but black stars (v2 shape)',
    });
    expect(reviewsVersionFromJson(json({ podname: 'reviews-v1-a-b', reviews: reviews({ stars: 4, color: 'red' }) }))).toBe(
      REVIEWS_CONFLICT,
    );
    const mixed = [
      { reviewer: 'R1', rating: { stars: 5, color: 'black' } },
      { reviewer: 'R2', rating: { stars: 4, color: 'red' } },
    ];
    expect(reviewsVersionFromJson(json({ reviews: mixed }))).toBe(REVIEWS_CONFLICT);
  });

  it('names failures: productpage’s error, ratings errors, and bodies it cannot read', () => {
    const unavailable = json({ error: 'Sorry, product reviews are currently unavailable for this book.' });
    expect(reviewsVersionFromJson(unavailable)).toBe(REVIEWS_UNAVAILABLE);
    const ratings = json({
      podname: 'reviews-v2-a-b',
      reviews: reviews({ error: 'Ratings service is currently unavailable' }),
    });
    expect(readReviewsJson(ratings)).toMatchObject({ class: RATINGS_UNAVAILABLE, versionFromPodname: 'reviews-v2' });
    expect(reviewsVersionFromJson('fault filter abort')).toBe(UNRECOGNISED);
    expect(reviewsVersionFromJson('[]')).toBe(UNRECOGNISED);
    expect(reviewsVersionFromJson(json({ podname: 'reviews-v2-a-b' }))).toBe(UNRECOGNISED);
    // A pod name that is not a reviews Deployment's says nothing; the shape still does.
    expect(reviewsVersionFromJson(json({ podname: 'my-reviews-7f', reviews: reviews() }))).toBe('reviews-v1');
  });
});
