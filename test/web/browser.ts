/**
 * Test support for driving the web UI in Debian's Chromium with playwright-core: launching,
 * screenshots into test-artifacts/web/, and a bounded wait for what other sites make true
 * eventually (a revoked share disappearing after a refresh).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

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

/** Collects page errors and failed console messages so a test can assert there were none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 40[134]/.test(msg.text())) errors.push(`console: ${msg.text()}`);
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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
