/**
 * `meshdav invite generate|accept|list` and `meshdav contacts [list|delete]`: the invitation-first
 * flow from the command line, against a running node (see api-client.ts for --url/--user).
 */
import type { Command } from 'commander';
import { CliError, EXIT } from './errors.js';
import { addApiOptions, out, outJson, withApi, type ApiOptions } from './api-client.js';

interface InviteView {
  token: string;
  description?: string;
  expiration: number;
  invite_link: string;
  invite_string: string;
  accepted?: boolean;
}
interface ContactView {
  display_name: string;
  idp: string;
  user_id: string;
  mail: string;
}

const when = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

export function registerInvite(program: Command): void {
  const invite = program.command('invite').description('invite someone on another site, or accept their invite');

  addApiOptions(
    invite
      .command('generate')
      .description('create an invite token to give to someone on another site')
      .option('--description <text>', 'a note kept with the invite'),
  ).action(async (opts: ApiOptions & { description?: string }) => {
    const inv = await withApi(opts, (api) => api.call<InviteView>('POST', '/sciencemesh/generate-invite', { description: opts.description }));
    if (opts.json) return outJson(inv);
    out(`invite:  ${inv.invite_string}`);
    out(`link:    ${inv.invite_link}`);
    out(`expires: ${when(inv.expiration)}`);
    out('Give the invite (or the link) to the other person; they run `meshdav invite accept <invite>` on their node.');
  });

  addApiOptions(
    invite
      .command('accept <invite>')
      .description('accept an invite: the invite string, the invite link, or a token with --provider')
      .option('--provider <domain>', 'the inviting provider domain, when <invite> is a bare token'),
  ).action(async (inviteArg: string, opts: ApiOptions & { provider?: string }) => {
    const link = inviteLink(inviteArg);
    const body = opts.provider ? { token: inviteArg, providerDomain: opts.provider } : link ?? { invite_string: inviteArg };
    if (!opts.provider && !link && !isInviteString(inviteArg)) {
      throw new CliError('that is not an invite — pass the invite string or link, or the token with --provider DOMAIN', EXIT.USAGE);
    }
    const c = await withApi(opts, (api) => api.call<ContactView>('POST', '/sciencemesh/accept-invite', body));
    if (opts.json) return outJson(c);
    out(`accepted: ${c.display_name} (${c.user_id}@${c.idp}) is now a contact`);
  });

  addApiOptions(invite.command('list').description('list the invites you generated')).action(async (opts: ApiOptions) => {
    const list = await withApi(opts, (api) => api.call<InviteView[]>('GET', '/sciencemesh/list-invite'));
    if (opts.json) return outJson(list);
    for (const i of list) {
      out([i.invite_string, i.accepted ? 'accepted' : `expires ${when(i.expiration)}`, i.description ?? ''].join('\t').trimEnd());
    }
  });

  const contacts = program.command('contacts').description('the people you exchanged invites with');
  addApiOptions(
    contacts.command('list', { isDefault: true }).description('list contacts').option('--search <prefix>', 'only contacts whose name, id or mail starts so'),
  ).action(async (opts: ApiOptions & { search?: string }) => {
    const q = opts.search ? `?search=${encodeURIComponent(opts.search)}` : '';
    const list = await withApi(opts, (api) => api.call<ContactView[]>('GET', `/sciencemesh/find-accepted-users${q}`));
    if (opts.json) return outJson(list);
    for (const c of list) out([`${c.user_id}@${c.idp}`, c.display_name, c.mail].join('\t').trimEnd());
  });
  addApiOptions(contacts.command('delete <address>').description('forget a contact (user@provider)')).action(
    async (address: string, opts: ApiOptions) => {
      const at = address.lastIndexOf('@');
      if (at <= 0) throw new CliError(`"${address}" is not user@provider`, EXIT.USAGE);
      await withApi(opts, (api) =>
        api.call('DELETE', '/sciencemesh/delete-accepted-user', { user_id: address.slice(0, at), idp: address.slice(at + 1) }),
      );
      if (!opts.json) out(`contact ${address} deleted`);
    },
  );
}

function isInviteString(s: string): boolean {
  const text = Buffer.from(s, 'base64').toString('utf8');
  return /^[A-Za-z0-9+/=]+$/.test(s) && text.lastIndexOf('@') > 0 && !/[\u0000-\u001f]/.test(text);
}

/** `…/accept-invite?token=T&providerDomain=D` → its two parameters. */
function inviteLink(s: string): { token: string; providerDomain: string } | undefined {
  try {
    const u = new URL(s);
    const token = u.searchParams.get('token');
    const providerDomain = u.searchParams.get('providerDomain');
    return token && providerDomain ? { token, providerDomain } : undefined;
  } catch {
    return undefined;
  }
}
