/**
 * A hand-written reader for the netrc format (the one curl, ftp and rclone read): white-space
 * separated tokens `machine NAME`, `default`, `login L`, `password P`, `account A`, and
 * `macdef NAME` whose body runs to the next blank line. Double-quoted tokens may hold spaces
 * (`\"` and `\\` escape). Unknown tokens are skipped. Never throws on content.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NetrcEntry {
  /** Host name, or undefined for the `default` entry. */
  machine?: string;
  login?: string;
  password?: string;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || text[i - 1] === '\n')) {
      // A comment line (curl's extension): skip to the end of the line.
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    let tok = '';
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        tok += text[i++];
      }
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) tok += text[i++];
    }
    if (tok === 'macdef') {
      // The macro body ends at the first empty line; it is not part of the token stream.
      const end = text.indexOf('\n\n', i);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    tokens.push(tok);
  }
  return tokens;
}

export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const tokens = tokenize(text);
  let cur: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') {
      cur = { machine: tokens[++i] };
      entries.push(cur);
    } else if (t === 'default') {
      cur = {};
      entries.push(cur);
    } else if (cur && t === 'login') {
      cur.login = tokens[++i];
    } else if (cur && t === 'password') {
      cur.password = tokens[++i];
    } else if (cur && t === 'account') {
      i++;
    }
  }
  return entries;
}

/** The entry for `host` (exact, case-insensitive), else the `default` entry, else undefined. */
export function lookupNetrc(entries: NetrcEntry[], host: string, login?: string): NetrcEntry | undefined {
  const h = host.toLowerCase();
  const fits = (e: NetrcEntry) => login === undefined || e.login === undefined || e.login === login;
  return (
    entries.find((e) => e.machine?.toLowerCase() === h && fits(e)) ?? entries.find((e) => e.machine === undefined && fits(e))
  );
}

/** Reads FILE (or ~/.netrc when FILE is undefined). A missing default file is no entries; a missing named file is an error. */
export function readNetrc(file?: string): NetrcEntry[] {
  const path = file ?? join(process.env.HOME || homedir(), '.netrc');
  try {
    return parseNetrc(readFileSync(path, 'utf8'));
  } catch (err) {
    if (file === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
