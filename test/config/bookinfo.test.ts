import { describe, expect, it } from 'vitest';
import {
  productPageProblems,
  problemNames,
  RATINGS_UNAVAILABLE,
  readProductPage,
  readReviewsJson,
  REVIEWS_CONFLICT,
  REVIEWS_UNAVAILABLE,
  reviewsVersionFromHtml,
  reviewsVersionFromJson,
  UNRECOGNISED,
} from '../../helpers/config/bookinfo.ts';

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
