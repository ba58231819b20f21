/** The WebDAV client commands (`meshdav ls|get|put|rm|mv|mkdir|cat`), usable against any WebDAV server. */
import type { Command } from 'commander';
import { registerCat } from './cat.js';
import { registerGet } from './get.js';
import { registerLs } from './ls.js';
import { registerMkdir } from './mkdir.js';
import { registerMv } from './mv.js';
import { registerPut } from './put.js';
import { registerRm } from './rm.js';

export function registerClient(program: Command): void {
  for (const register of [registerLs, registerGet, registerPut, registerCat, registerMkdir, registerMv, registerRm]) register(program);
}
