/**
 * A node's private signing key in a file of its data folder (PKCS#8 PEM, mode 0600), made on
 * first use: the RSA key of draft-cavage signatures (signatures.ts) and the Ed25519 key of
 * RFC 9421 ones (message-signatures.ts).
 */
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** The key in `file`, or a new one of `type` written there (when two starts race, the first one written wins). */
export async function loadOrCreateKey(file: string, type: 'rsa' | 'ed25519'): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const pair = type === 'rsa' ? await promisify(generateKeyPair)('rsa', { modulusLength: 2048 }) : await promisify(generateKeyPair)('ed25519');
    pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      pem = await readFile(file, 'utf8');
    }
  }
  return createPrivateKey(pem);
}
