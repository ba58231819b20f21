/**
 * Test support for driving the web UI in Debian's Chromium with playwright-core: launching,
 * screenshots into test-artifacts/web/, and a bounded wait for what other sites make true
 * eventually (a revoked share disappearing after a refresh).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../support/ports.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web');

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot as test-artifacts/web/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Collects script errors and console errors (not HTTP error statuses, which flows provoke on purpose). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/**
 * Repeats `attempt` until it returns true, at most `tries` times with `pauseMs` between; throws
 * with `what` if it never does. For state another node changes (not a timing assertion).
 */
export async function eventually(what: string, attempt: () => Promise<boolean>, tries = 40, pauseMs = 250): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await attempt()) return;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  throw new Error(`never happened: ${what}`);
}

export { freePort };

/**
 * Accessibility basics of the current page: every visible form control has a label, every
 * button and link a name, ids are unique, there is one <main> and one visible <h1>, and a live
 * status region. Returns the problems. (Plain JavaScript source: tsx's helpers do not exist in
 * the page.)
 */
const A11Y_CHECK = `(() => {
  const problems = [];
  const visible = (el) => !el.closest('[hidden]') && el.offsetParent !== null;
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!visible(el) && el.type !== 'file') continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('unlabelled control: ' + el.outerHTML.slice(0, 100));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!visible(el)) continue;
    const img = el.querySelector('img[alt]');
    const name = (el.getAttribute('aria-label') || el.textContent || '').trim() || (img && img.getAttribute('alt'));
    if (!name) problems.push('nameless ' + el.tagName.toLowerCase() + ': ' + el.outerHTML.slice(0, 100));
  }
  const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
  for (const id of new Set(ids)) if (ids.filter((x) => x === id).length > 1) problems.push('duplicate id ' + id);
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
  const h1 = [...document.querySelectorAll('h1')].filter(visible).length;
  if (h1 !== 1) problems.push(h1 + ' visible <h1> elements');
  if (!document.querySelector('[role=status][aria-live]')) problems.push('no live status region');
  return problems;
})()`;

export async function a11yProblems(page: Page): Promise<string[]> {
  return page.evaluate(A11Y_CHECK) as Promise<string[]>;
}
