/**
 * `meshdav share create|list|accept|decline|revoke`: sending and receiving OCM shares from the
 * command line, against a running node (see api-client.ts for --url/--user).
 */
import type { Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import { addApiOptions, out, outJson, withApi, type ApiOptions } from './api-client.js';

interface SentView {
  id: string;
  name: string;
  recipient: string;
  role: string;
  state: string;
}
interface ReceivedView {
  id: string;
  name: string;
  owner: string;
  role: string;
  state: string;
  mountPoint: string | null;
}

export function registerShare(program: Command): void {
  const share = program.command('share').description('share files with contacts on other sites, and manage shares you received');

  addApiOptions(
    share
      .command('create <path> <recipient>')
      .description('share a file or folder of your home with a contact (recipient = user@provider)')
      .option('--role <role>', 'viewer (read) or editor (read and write)', 'viewer'),
  ).action(async (path: string, recipient: string, opts: ApiOptions & { role: string }) => {
    const at = recipient.lastIndexOf('@');
    if (at <= 0 || at === recipient.length - 1) throw new CliError(`"${recipient}" is not user@provider`, EXIT.USAGE);
    if (opts.role !== 'viewer' && opts.role !== 'editor') throw new CliError('--role must be viewer or editor', EXIT.USAGE);
    const s = await withApi(opts, (api) =>
      api.call<SentView>('POST', '/sciencemesh/create-share', {
        sourcePath: path,
        recipientUsername: recipient.slice(0, at),
        recipientHost: recipient.slice(at + 1),
        role: opts.role,
      }),
    );
    if (opts.json) return outJson(s);
    out(`shared ${s.name} with ${s.recipient} as ${s.role} (share ${s.id})`);
  });

  addApiOptions(
    share
      .command('list')
      .description('list the shares you sent and received')
      .option('--sent', 'only the shares you sent')
      .option('--received', 'only the shares you received'),
  ).action(async (opts: ApiOptions & { sent?: boolean; received?: boolean }) => {
    const both = !opts.sent && !opts.received;
    const result = await withApi(opts, async (api) => ({
      sent: both || opts.sent ? await api.call<SentView[]>('GET', '/sciencemesh/sent-shares') : undefined,
      received: both || opts.received ? await api.call<ReceivedView[]>('GET', '/sciencemesh/received-shares') : undefined,
    }));
    if (opts.json) return outJson(result);
    for (const s of result.sent ?? []) out(['sent', s.id, s.name, `→ ${s.recipient}`, s.role, s.state].join('\t'));
    for (const r of result.received ?? []) {
      out(['received', r.id, r.name, `← ${r.owner}`, r.role, r.state, r.mountPoint ?? ''].join('\t').trimEnd());
    }
  });

  for (const [verb, what] of [['accept', 'accept a share you received (it is mounted in your home)'], ['decline', 'decline a share you received']] as const) {
    addApiOptions(share.command(`${verb} <id>`).description(what)).action(async (id: string, opts: ApiOptions) => {
      const r = await withApi(opts, (api) => api.call<ReceivedView>('POST', `/sciencemesh/received-shares/${encodeURIComponent(id)}/${verb}`));
      if (opts.json) return outJson(r);
      out(`${r.name}: ${r.state}${r.mountPoint ? ` at ${r.mountPoint}` : ''}`);
    });
  }

  addApiOptions(share.command('revoke <id>').description('revoke a share you sent; its secret stops working at once')).action(
    async (id: string, opts: ApiOptions) => {
      const s = await withApi(opts, (api) => api.call<SentView>('DELETE', `/sciencemesh/sent-shares/${encodeURIComponent(id)}`));
      if (opts.json) return outJson(s);
      out(`revoked ${s.name} (shared with ${s.recipient})`);
    },
  );
}
