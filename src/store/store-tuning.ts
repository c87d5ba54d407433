/** The store's tuning. */

/**
 * Events that may wait for a commit at once; past it, webhooks get 503. A healthy store commits whatever
 * arrived during the previous fsync within milliseconds; 10,000 waiting events mean the disk has stalled.
 */
export const STORE_MAX_WAITING = 10_000
