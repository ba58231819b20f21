/**
 * The access token of a mount whose sender requires the OCM code flow (`must-exchange-token`):
 * the share's secret is exchanged at the sender's token endpoint for a short-lived bearer token
 * (src/ocm/token-client.ts), which RemoteFs sends instead of the secret. The token is renewed
 * before it expires (at 80 % of its lifetime) and when the sender refuses it; one exchange at a
 * time.
 */
import { secretsEqual } from '../auth/secrets.js';

export interface TokenSource {
  /** A token believed valid (exchanging when there is none, or it is about to expire). */
  get(): Promise<string>;
  /** A new token, after the sender refused `stale` (no new exchange when another one replaced it already). */
  renew(stale: string): Promise<string>;
}

export type Exchange = () => Promise<{ accessToken: string; expiresIn: number }>;

export class ExchangedToken implements TokenSource {
  private current?: { token: string; renewAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly exchange: Exchange,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    return this.fetch();
  }

  renew(stale: string): Promise<string> {
    if (this.current && !secretsEqual(stale, this.current.token) && this.now() < this.current.renewAt) return Promise.resolve(this.current.token);
    this.current = undefined;
    return this.fetch();
  }

  private fetch(): Promise<string> {
    this.pending ??= this.exchange()
      .then(({ accessToken, expiresIn }) => {
        this.current = { token: accessToken, renewAt: this.now() + expiresIn * 800 };
        return accessToken;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
