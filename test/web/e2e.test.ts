/**
 * The whole ScienceMesh flow through the web UI only, in real Chromium, between two real nodes
 * on loopback that trust each other: log in on A, make a folder and drop a file into it, generate
 * an invite; open the invite link as the person on B (A's "where is your account" step sends them
 * to B), log in on B and accept; share the folder from A to B through the recipient
 * autocomplete; accept on B, open the mounted share and read the file; revoke on A and see the
 * share disappear on B. Every step leaves a screenshot in test-artifacts/web/.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { needTool } from '../support/tools.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { readFileSync, rmSync } from 'node:fs';
import { a11yProblems, ARTIFACTS, CHROMIUM, eventually, freePort, launch, shot, watchErrors } from './browser.js';

const PASSWORD = 'correct horse battery staple';
const CONTENT = 'Hello from Alice at site A — shared through the mesh.\n';

describe('web UI end to end in Chromium (two sites)', function () {
  this.timeout(120_000);
  let a: TestNode;
  let b: TestNode;
  let browser: Browser;
  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let pageA: Page;
  let pageB: Page;
  let errorsA: string[];
  let errorsB: string[];

  before(async function () {
    needTool(this, CHROMIUM, 'the web UI is tested in a real browser');
    rmSync(ARTIFACTS, { recursive: true, force: true });
    const [pa, pb] = [await freePort(), await freePort()];
    const urlA = `http://127.0.0.1:${pa}`;
    const urlB = `http://127.0.0.1:${pb}`;
    a = await startTestNode({ port: pa, trustedProviders: [urlB] });
    b = await startTestNode({ port: pb, trustedProviders: [urlA] });
    await a.services.users.add({ name: 'alice', password: PASSWORD, displayName: 'Alice Archer', email: 'alice@a.example' });
    await b.services.users.add({ name: 'bruno', password: PASSWORD, displayName: 'Bruno Berg', email: 'bruno@b.example' });
    browser = await launch();
    ctxA = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    ctxB = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    ctxA.setDefaultTimeout(20_000);
    ctxB.setDefaultTimeout(20_000);
    pageA = await ctxA.newPage();
    pageB = await ctxB.newPage();
    errorsA = watchErrors(pageA);
    errorsB = watchErrors(pageB);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    const tag = (this.currentTest.title.match(/^\w+/)?.[0] ?? 'x').toLowerCase();
    await shot(pageA, `failed-${tag}-page-a`).catch(() => {});
    await shot(pageB, `failed-${tag}-page-b`).catch(() => {});
    console.log('      status A:', await pageA.locator('#status').innerText().catch(() => '?'));
    console.log('      status B:', await pageB.locator('#status').innerText().catch(() => '?'));
    for (const p of [pageA, pageB]) {
      const alerts = await p.locator('[role=alert]').allInnerTexts().catch(() => []);
      if (alerts.some(Boolean)) console.log('      alerts:', alerts.filter(Boolean));
    }
  });

  after(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });


  async function login(page: Page, user: string) {
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }

  /** A link of the main navigation. */
  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  /** A link inside the page content. */
  const inMain = (page: Page, name: string) => page.locator('#main').getByRole('link', { name, exact: true });

  /** Screenshot of a step, and the accessibility basics of what it shows. */
  async function step(page: Page, name: string) {
    await shot(page, name);
    assert.deepEqual(await a11yProblems(page), [], `accessibility problems at ${name}`);
  }

  async function status(page: Page, text: RegExp) {
    await page.locator('#status', { hasText: text }).waitFor();
  }

  it('A: logs in, makes a folder and drops a file into it', async () => {
    await a.services.storage.setQuota('alice', 10 * 1024 * 1024);
    await pageA.goto(a.url + '/');
    await pageA.getByRole('heading', { name: 'Log in' }).waitFor();
    await step(pageA, '01-a-login');
    await login(pageA, 'alice');
    await pageA.getByRole('heading', { name: 'Files' }).waitFor();
    // Her own quota, shown at the root of her files.
    await pageA.locator('#storage-usage', { hasText: /^0 B of 10\.0 MB used \(10\.0 MB free\)$/ }).waitFor();

    await pageA.getByRole('button', { name: 'New folder' }).click();
    await pageA.getByLabel('Folder name').fill('Project');
    await pageA.getByRole('button', { name: 'Create' }).click();
    await inMain(pageA, 'Project').click();
    await pageA.getByText('This folder is empty.').waitFor();

    const dataTransfer = await pageA.evaluateHandle((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'notes.txt', { type: 'text/plain' }));
      return dt;
    }, CONTENT);
    const zone = pageA.locator('section.dropzone');
    await zone.dispatchEvent('dragenter', { dataTransfer });
    await zone.dispatchEvent('dragover', { dataTransfer });
    await zone.dispatchEvent('drop', { dataTransfer });
    await status(pageA, /Uploaded 1 file/);
    await pageA.getByRole('button', { name: 'notes.txt', exact: true }).waitFor();
    await step(pageA, '02-a-files-uploaded');

    const stored = await a.services.namespaces.forUser('alice');
    const entry = await stored.stat('/Project/notes.txt');
    assert.equal(entry.size, Buffer.byteLength(CONTENT));
  });

  it('A: shows upload progress and can cancel an upload', async () => {
    const cdp = await ctxA.newCDPSession(pageA);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 10, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    try {
      for (let attempt = 1; ; attempt++) {
        const logged = a.logLines.length;
        await pageA.locator('#upload-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 1024 * 1024, 7) });
        const bar = pageA.getByRole('progressbar', { name: 'Uploading big.bin' });
        await eventually('the progress bar shows part of the upload', async () => {
          const v = await bar.evaluate((el) => (el as HTMLProgressElement).value).catch(() => 0);
          return v > 0 && v < 100;
        });
        if (attempt === 1) await step(pageA, '02b-a-upload-progress');
        await pageA.getByRole('button', { name: 'Cancel upload of big.bin' }).click();
        await status(pageA, /upload cancelled/);
        // A cancel is one only if it reached the node before the body's last byte. Once in CI
        // (1 run of 9) the browser's upload throttle did not hold the body back and the node had
        // stored the file (201) when the abort came: then try again.
        await new Promise((r) => setTimeout(r, 200));
        const stored = a.logLines.slice(logged).some((l) => l.includes('"method":"PUT"') && l.includes('big.bin') && /"status":20[14]/.test(l));
        if (!stored) break;
        assert.ok(attempt < 3, 'the upload was never cancelled before the node had all of it');
        await (await a.services.namespaces.forUser('alice')).remove('/Project/big.bin');
      }
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
    await pageA.getByRole('button', { name: 'Refresh the list' }).click();
    await pageA.locator('.file-list[aria-busy="false"]').waitFor();
    assert.equal(await pageA.getByRole('button', { name: 'big.bin', exact: true }).count(), 0, 'a cancelled upload leaves no file');
  });

  it('A: downloads, renames and deletes files', async () => {
    const [download] = await Promise.all([
      pageA.waitForEvent('download'),
      pageA.getByRole('link', { name: 'Download notes.txt' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'notes.txt');
    assert.equal(readFileSync((await download.path())!, 'utf8'), CONTENT);

    await pageA.locator('#upload-input').setInputFiles({ name: 'draft.txt', mimeType: 'text/plain', buffer: Buffer.from('draft') });
    await pageA.getByRole('button', { name: 'draft.txt', exact: true }).waitFor();
    await pageA.getByRole('button', { name: 'Rename draft.txt' }).click();
    const name = pageA.getByLabel('New name');
    await name.fill('final.txt');
    await name.press('Enter');
    await pageA.getByRole('button', { name: 'final.txt', exact: true }).waitFor();
    assert.equal(await pageA.getByRole('button', { name: 'draft.txt', exact: true }).count(), 0);
    const home = await a.services.namespaces.forUser('alice');
    assert.equal((await home.stat('/Project/final.txt')).size, 5);

    await pageA.getByRole('button', { name: 'Delete final.txt' }).click();
    await pageA.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await status(pageA, /Deleted final.txt/);
    await pageA.getByRole('button', { name: 'final.txt', exact: true }).waitFor({ state: 'detached' });
    await assert.rejects(home.stat('/Project/final.txt'), { status: 404 });
  });

  it('A: restores the deleted file from Deleted files, then deletes it for good', async () => {
    const home = await a.services.namespaces.forUser('alice');
    await nav(pageA, 'Deleted files').click();
    const row = pageA.locator('[data-trash="final.txt"]');
    await row.waitFor();
    assert.match(await row.innerText(), /from \/Project/);
    await pageA.getByText('Deleted items go for good 30 days after they were deleted.').waitFor();
    await step(pageA, '06b-a-deleted-files');
    const [deleted] = await Promise.all([pageA.waitForEvent('download'), pageA.getByRole('link', { name: 'Download final.txt' }).click()]);
    assert.equal(deleted.suggestedFilename(), 'final.txt');
    assert.equal(readFileSync((await deleted.path())!, 'utf8'), 'draft');
    await pageA.getByRole('button', { name: 'Restore final.txt' }).click();
    await status(pageA, /Restored final.txt to \/Project/);
    assert.equal((await home.stat('/Project/final.txt')).size, 5);
    await pageA.getByText('Nothing deleted.').waitFor();

    await home.remove('/Project/final.txt');
    await pageA.getByRole('button', { name: 'Refresh' }).click();
    await pageA.getByRole('button', { name: 'Delete final.txt for good' }).click();
    await pageA.getByRole('dialog').getByRole('button', { name: 'Delete for good' }).click();
    await status(pageA, /Deleted final.txt for good/);
    await pageA.getByText('Nothing deleted.').waitFor();
    assert.deepEqual(await (home as unknown as { listTrash(): Promise<unknown[]> }).listTrash(), []);
    await nav(pageA, 'Files').click();
    await inMain(pageA, 'Project').waitFor();
  });

  it('A: lists a file\'s old versions, and restores one', async () => {
    const home = await a.services.namespaces.forUser('alice');
    const { Readable } = await import('node:stream');
    for (const text of ['version one', 'version two!', 'version three']) await home.write('/Project/paper.txt', Readable.from([Buffer.from(text)]));
    await inMain(pageA, 'Project').click();
    await pageA.getByRole('button', { name: 'Versions of paper.txt' }).click();
    const dialog = pageA.getByRole('dialog', { name: 'Versions of paper.txt' });
    await dialog.getByRole('button', { name: /^Restore the version of/ }).first().waitFor();
    assert.equal(await dialog.getByRole('button', { name: /^Restore the version of/ }).count(), 2);
    await step(pageA, '06c-a-versions');
    // The oldest (last) one: "version one".
    await dialog.getByRole('button', { name: /^Restore the version of/ }).last().click();
    await status(pageA, /Restored the version of .* of paper\.txt/);
    const { text } = await import('node:stream/consumers');
    assert.equal(await text(await home.openRead('/Project/paper.txt')), 'version one');
    await nav(pageA, 'Files').click();
  });

  let inviteLink = '';
  it('A: generates an invite with copyable string and link', async () => {
    await nav(pageA, 'Contacts & invites').click();
    await pageA.getByRole('button', { name: 'Generate invite' }).click();
    inviteLink = await pageA.getByLabel('Invite link', { exact: true }).inputValue();
    const inviteString = await pageA.getByLabel('Invite string', { exact: true }).inputValue();
    assert.match(inviteLink, /\/accept-invite\?/);
    assert.ok(inviteString.length > 20);
    await pageA.getByRole('button', { name: 'Copy invite link' }).waitFor();
    await pageA.locator('.rows .row').first().waitFor();
    await step(pageA, '03-a-invite');
  });

  it('B: opens the invite link, names its site, logs in and accepts', async () => {
    await pageB.goto(inviteLink);
    await pageB.getByRole('heading', { name: 'Where is your account?' }).waitFor();
    await step(pageB, '04-b-wayf-on-a');
    await pageB.getByLabel('Your site').fill(new URL(b.url).host);
    await pageB.getByRole('button', { name: 'Continue to my site' }).click();
    await pageB.waitForURL((u) => u.origin === new URL(b.url).origin && u.pathname === '/accept-invite');
    await pageB.getByRole('heading', { name: 'Log in' }).waitFor();
    await login(pageB, 'bruno');
    assert.equal(await pageB.getByLabel('Inviting site').inputValue(), new URL(a.url).host);
    await step(pageB, '05-b-accept-invite');
    await pageB.getByRole('button', { name: 'Accept invite' }).click();
    await pageB.getByRole('heading', { name: 'Invite accepted' }).waitFor();
    await pageB.getByRole('link', { name: 'See your contacts' }).click();
    await pageB.getByText(`alice@${new URL(a.url).host}`).first().waitFor();
    await step(pageB, '06-b-contacts');
  });

  it('A: shares the folder with B through the recipient autocomplete', async () => {
    await pageA.reload();
    await pageA.getByText(`bruno@${new URL(b.url).host}`).first().waitFor();
    await nav(pageA, 'Files').click();
    await pageA.getByRole('button', { name: 'Share Project' }).click();
    const recipient = pageA.getByRole('combobox', { name: 'Recipient' });
    await recipient.pressSequentially('Bru');
    const option = pageA.getByRole('option', { name: /Bruno Berg/ });
    await option.waitFor();
    await step(pageA, '07-a-share-autocomplete');
    await recipient.press('ArrowDown');
    await recipient.press('Enter');
    assert.match(await recipient.inputValue(), /bruno@/);
    await pageA.getByRole('radio', { name: /Viewer/ }).check();
    await pageA.getByRole('dialog').getByRole('button', { name: 'Share' }).click();
    await status(pageA, /Shared Project with Bruno Berg/);
    await nav(pageA, 'Shares').click();
    await pageA.locator('.row', { hasText: 'Project' }).waitFor();
    await step(pageA, '08-a-sent-shares');
  });

  it('B: accepts the share, opens it and reads the file', async () => {
    await nav(pageB, 'Shares').click();
    const row = pageB.locator('.row', { hasText: 'Project' });
    await row.waitFor();
    await step(pageB, '09-b-received-pending');
    await pageB.getByRole('button', { name: 'Accept Project' }).click();
    await status(pageB, /Accepted Project/);
    await pageB.getByRole('link', { name: 'Open Project' }).click();
    await pageB.getByRole('button', { name: 'notes.txt', exact: true }).waitFor();
    await pageB.getByText('This folder is read-only for you.').waitFor();
    assert.equal(await pageB.getByRole('button', { name: 'Upload', exact: true }).count(), 0, 'viewers cannot upload');
    assert.equal(await pageB.getByRole('button', { name: 'Delete notes.txt' }).count(), 0, 'viewers cannot delete');
    await step(pageB, '10-b-mounted-share');

    await nav(pageB, 'Files').click();
    await inMain(pageB, 'Shares').click();
    const mount = pageB.locator('tr', { hasText: 'Project' });
    await mount.locator('.badge-remote').waitFor();
    assert.match(await mount.locator('.badge-remote').innerText(), new RegExp(`alice.*${new URL(a.url).host.replace(/\./g, '\\.')}|Alice Archer.*${new URL(a.url).host.replace(/\./g, '\\.')}`));
    await step(pageB, '11-b-shares-folder-remote');

    await mount.getByRole('link', { name: 'Project' }).click();
    await pageB.getByRole('button', { name: 'notes.txt', exact: true }).click();
    const content = pageB.getByLabel('Content of notes.txt');
    await content.waitFor();
    assert.equal(await content.textContent(), CONTENT);
    await step(pageB, '12-b-file-preview');
    await pageB.getByRole('button', { name: 'Close' }).click();
  });

  it('A: revokes the share, and it disappears on B', async () => {
    await pageA.reload();
    await pageA.getByRole('button', { name: /^Revoke Project/ }).click();
    await pageA.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await status(pageA, /Revoked Project/);
    await pageA.getByText('You have not shared anything yet.').waitFor();
    await step(pageA, '13-a-revoked');

    await pageB.goto(b.url + '/#/files/Shares');
    await eventually('the revoked share leaves B\'s /Shares', async () => {
      await pageB.getByRole('button', { name: 'Refresh the list' }).click();
      await pageB.locator('.file-list[aria-busy="false"]').waitFor();
      return (await pageB.locator('tr', { hasText: 'Project' }).count()) === 0;
    });
    await step(pageB, '14-b-share-gone');
    await nav(pageB, 'Shares').click();
    await pageB.getByText('Nothing has been shared with you yet.').waitFor();
  });

  it('works on a phone-sized screen and raised no script errors', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    try {
      const page = await phone.newPage();
      const errs = watchErrors(page);
      await page.goto(a.url + '/');
      await login(page, 'alice');
      await inMain(page, 'Project').waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no horizontal scrolling (page is ${width}px wide)`);
      await step(page, '15-a-phone-files-dark');
      await nav(page, 'Contacts & invites').click();
      await page.getByRole('heading', { name: 'Contacts', exact: true }).waitFor();
      const invitesWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(invitesWidth <= 390, `no horizontal scrolling on the invites view (${invitesWidth}px)`);
      await step(page, '16-a-phone-invites-dark');
      assert.deepEqual(errs, []);
    } finally {
      await phone.close();
    }
    assert.deepEqual([...errorsA, ...errorsB], []);
  });
});
