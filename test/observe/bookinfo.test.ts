import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultTimeouts } from '../../helpers/config/timeouts.ts';
import {
  productPageProblems,
  problemNames,
  RATINGS_UNAVAILABLE,
  readProductPage,
  readReviewsJson,
  REVIEWS_UNAVAILABLE,
  reviewsVersionFromHtml,
  reviewsVersionFromJson,
} from '../../helpers/config/bookinfo.ts';
import { loginAs, LoginError, logout, sessionPair } from '../../helpers/observe/bookinfo.ts';
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
