/** Constant-time comparison of secrets of any length (both sides hashed to equal-length digests). */
import { createHash, timingSafeEqual } from 'node:crypto';

export function secretsEqual(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') {
    timingSafeEqual(digest(''), digest(expected));
    return false;
  }
  const equal = timingSafeEqual(digest(given), digest(expected));
  return equal && given.length === expected.length;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
