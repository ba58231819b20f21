/**
 * Turns network errors and HTTP failure statuses into one-line CliErrors that say what failed
 * and what to do, with the documented exit codes (../errors.ts).
 */
import { CliError, EXIT } from '../errors.js';

const LOGIN_HELP = 'pass --user NAME with --password-stdin, set MESHDAV_USER and MESHDAV_PASSWORD, or add the host to ~/.netrc';

export interface HttpFailure {
  method: string;
  url: string;
  status: number;
  reason?: string;
  hasCredentials: boolean;
}

export function httpFailure(f: HttpFailure): CliError {
  const { method, url, status } = f;
  const said = f.reason ? ` (${f.reason})` : '';
  const head = `${method} ${url}: ${status}`;
  switch (status) {
    case 401:
      return f.hasCredentials
        ? new CliError(`${head} Unauthorized${said} — check the user name and password`, EXIT.AUTH)
        : new CliError(`${head} Unauthorized — this server needs a login: ${LOGIN_HELP}`, EXIT.AUTH);
    case 403:
      return new CliError(`${head} Forbidden${said} — this user may not do that here; check the path and the share's permissions`, EXIT.FORBIDDEN);
    case 404:
      return new CliError(`${head} Not Found — no such file or folder; check the path with \`meshdav ls\` on its folder`, EXIT.NOT_FOUND);
    case 405:
      if (method === 'MKCOL') return new CliError(`${head} Method Not Allowed — something already exists at that path`, EXIT.CONFLICT);
      return method === 'GET'
        ? new CliError(`${head} Method Not Allowed — this is probably a folder: list it with \`meshdav ls\``, EXIT.FAILURE)
        : new CliError(`${head} Method Not Allowed${said} — is this a WebDAV URL? (meshdav homes live under /remote.php/dav/files/USER/)`, EXIT.FAILURE);
    case 409:
      return new CliError(`${head} Conflict${said} — the parent folder does not exist (create it with \`meshdav mkdir -p\`) or a file is in the way`, EXIT.CONFLICT);
    case 412:
      return method === 'MOVE' || method === 'COPY'
        ? new CliError(`${head} Precondition Failed — the destination exists; add --overwrite to replace it`, EXIT.CONFLICT)
        : new CliError(`${head} Precondition Failed${said} — the file changed on the server meanwhile; try again`, EXIT.CONFLICT);
    case 413:
      return new CliError(`${head} Payload Too Large${said} — the server refuses a file this big`, EXIT.QUOTA);
    case 423:
      return new CliError(`${head} Locked${said} — another client holds a lock on it; try again later`, EXIT.CONFLICT);
    case 507:
      return new CliError(`${head} Insufficient Storage — quota exceeded; delete something or ask the administrator for more space`, EXIT.QUOTA);
    default:
      if (status >= 500) {
        return new CliError(`${head} server error${said} — the server failed; see its log, then try again`, EXIT.SERVER);
      }
      return new CliError(`${head}${said} — the server refused the request`, EXIT.FAILURE);
  }
}

const NET: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the transfer stalled',
};

/** Connection-level failures: the node is down, the name is wrong, or TLS is not trusted. */
export function networkFailure(err: unknown, url: URL): CliError {
  if (err instanceof CliError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code && e.code !== 'UND_ERR_SOCKET' ? e.code : (e?.cause?.code ?? e?.code);
  const origin = url.origin;
  if (e?.name === 'AbortError') return new CliError(`${origin}: cancelled`, EXIT.FAILURE);
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
    return new CliError(
      `cannot reach ${origin}: TLS certificate not trusted (${code}) — add its CA with NODE_EXTRA_CA_CERTS=FILE, or pass --insecure for a test server`,
      EXIT.UNREACHABLE,
    );
  }
  const what = (code && NET[code]) ?? e?.message ?? String(err);
  const hint =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'check the host name in the URL'
      : code === 'ECONNREFUSED' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
        ? 'is `meshdav serve` running?'
        : 'is the server running and the URL right?';
  return new CliError(`cannot reach ${origin}: ${what} — ${hint}`, EXIT.UNREACHABLE);
}
