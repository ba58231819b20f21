/** MKCOL: a body → 415; something already there → 405; parent missing → 409 (from the Fs). */
import { AlreadyExistsError, MethodNotAllowedError, UnsupportedMediaTypeError } from '../../errors.js';
import { assertUnlocked, setEntryHeaders, statOrNull, type DavRequest, emptyResponse } from '../context.js';

export async function mkcol(req: DavRequest): Promise<void> {
  const { ctx, fs, path } = req;
  const length = Number(ctx.get('content-length') || 0);
  if (length > 0 || ctx.get('transfer-encoding')) throw new UnsupportedMediaTypeError('MKCOL with a request body is not supported');
  if ((await statOrNull(fs, path)) !== null) throw new MethodNotAllowedError('something already exists at this URL');
  assertUnlocked(req, path, { member: true });
  try {
    const entry = await fs.mkdir(path);
    setEntryHeaders(ctx, entry);
  } catch (err) {
    if (err instanceof AlreadyExistsError) throw new MethodNotAllowedError('something already exists at this URL');
    throw err;
  }
  emptyResponse(ctx, 201);
}
