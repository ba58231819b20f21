/**
 * Adler-32 (RFC 1950), written by hand: a and b are reduced every 3200 bytes, which keeps them
 * inside int32 so V8 stays on its fast integer path; the inner loop is unrolled by 16.
 * `adler32Update` must stay self-contained (no outside names, no inner functions): hash-worker.ts
 * ships its source text to worker threads.
 */
export interface AdlerState {
  a: number;
  b: number;
}

export function adler32Update(st: AdlerState, buf: Uint8Array): void {
  let a = st.a;
  let b = st.b;
  let i = 0;
  const len = buf.length;
  while (i < len) {
    const end = Math.min(len, i + 3200);
    const end16 = end - 15;
    for (; i < end16; i += 16) {
      a += buf[i]!; b += a; a += buf[i + 1]!; b += a; a += buf[i + 2]!; b += a; a += buf[i + 3]!; b += a;
      a += buf[i + 4]!; b += a; a += buf[i + 5]!; b += a; a += buf[i + 6]!; b += a; a += buf[i + 7]!; b += a;
      a += buf[i + 8]!; b += a; a += buf[i + 9]!; b += a; a += buf[i + 10]!; b += a; a += buf[i + 11]!; b += a;
      a += buf[i + 12]!; b += a; a += buf[i + 13]!; b += a; a += buf[i + 14]!; b += a; a += buf[i + 15]!; b += a;
    }
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  st.a = a;
  st.b = b;
}

/** Lower-case hex, 8 digits. */
export function adler32Digest(st: AdlerState): string {
  return ((st.b * 65536 + st.a) >>> 0).toString(16).padStart(8, '0');
}
