/**
 * The other paths of the web UI between two real nodes, in Chromium: an invite string copied with
 * the Copy button and pasted on the other site; a share made with the keyboard only as editor,
 * into which the recipient uploads through the mount (the file lands at the owner's); a share
 * the recipient declines (the owner sees "Declined"); uploading over an existing name (asks
 * before replacing); uploading a folder tree; removing a contact.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { needTool } from '../support/tools.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { a11yProblems, CHROMIUM, freePort, launch, shot, watchErrors } from './browser.js';

const PASSWORD = 'correct horse battery staple';

describe('web UI flows in Chromium: paste an invite, editor shares, decline', function () {
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
    const [pa, pb] = [await freePort(), await freePort()];
    a = await startTestNode({ port: pa, trustedProviders: [`http://127.0.0.1:${pb}`] });
    b = await startTestNode({ port: pb, trustedProviders: [`http://127.0.0.1:${pa}`] });
    await a.services.users.add({ name: 'ana', password: PASSWORD, displayName: 'Ana Alves' });
    await b.services.users.add({ name: 'ben', password: PASSWORD, displayName: 'Ben Brandt' });
    browser = await launch();
    ctxA = await browser.newContext();
    ctxB = await browser.newContext();
    await ctxA.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(a.url).origin });
    for (const c of [ctxA, ctxB]) c.setDefaultTimeout(20_000);
    pageA = await ctxA.newPage();
    pageB = await ctxB.newPage();
    errorsA = watchErrors(pageA);
    errorsB = watchErrors(pageB);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    await shot(pageA, 'flows-failed-page-a').catch(() => {});
    await shot(pageB, 'flows-failed-page-b').catch(() => {});
  });

  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const status = (page: Page, text: RegExp) => page.locator('#status', { hasText: text }).waitFor();

  async function login(page: Page, node: TestNode, user: string) {
    await page.goto(node.url + '/');
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }

  async function newFolder(page: Page, name: string) {
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill(name);
    await page.getByLabel('Folder name').press('Enter');
    await page.locator('#main').getByRole('link', { name, exact: true }).waitFor();
  }

  it('copies an invite string with the Copy button and accepts it pasted on the other site', async () => {
    await login(pageA, a, 'ana');
    await newFolder(pageA, 'Drafts');
    await newFolder(pageA, 'Private');
    await nav(pageA, 'Contacts & invites').click();
    await pageA.getByRole('button', { name: 'Generate invite' }).click();
    const shown = await pageA.getByLabel('Invite string', { exact: true }).inputValue();
    await pageA.getByRole('button', { name: 'Copy invite string' }).click();
    await status(pageA, /Invite string copied/);
    const copied = await pageA.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, shown);

    await login(pageB, b, 'ben');
    await nav(pageB, 'Contacts & invites').click();
    await pageB.getByLabel('Invite string or link').fill(copied);
    await pageB.getByRole('button', { name: 'Accept invite' }).click();
    await status(pageB, /Invite accepted/);
    await pageB.getByText(`ana@${new URL(a.url).host}`).first().waitFor();

    // The same invite a second time: refused with a clear message, nothing changes.
    await pageB.getByLabel('Invite string or link').fill(copied);
    await pageB.getByRole('button', { name: 'Accept invite' }).click();
    const alert = pageB.locator('[role=alert]', { hasText: /./ });
    await alert.waitFor();
    assert.match(await alert.innerText(), /already|invalid|used/i);
    await shot(pageB, 'flows-01-b-invite-pasted');
  });

  it('shares a folder as editor with the keyboard only; the recipient uploads into it', async () => {
    await nav(pageA, 'Files').click();
    await pageA.getByRole('button', { name: 'Share Drafts' }).focus();
    await pageA.keyboard.press('Enter');
    const recipient = pageA.getByRole('combobox', { name: 'Recipient' });
    await recipient.waitFor();
    assert.ok(await recipient.evaluate((el) => el === document.activeElement), 'the dialog opens with the recipient field focused');
    await pageA.keyboard.type('ben');
    await pageA.getByRole('option', { name: /Ben Brandt/ }).waitFor();
    await pageA.keyboard.press('Enter');
    assert.match(await recipient.inputValue(), /ben@/);
    await pageA.keyboard.press('Tab'); // to the role radio group (Viewer)
    await pageA.keyboard.press('ArrowDown'); // Editor
    assert.ok(await pageA.getByRole('radio', { name: /Editor/ }).isChecked());
    assert.deepEqual(await a11yProblems(pageA), []);
    await pageA.keyboard.press('Enter'); // submits the form
    await status(pageA, /Shared Drafts with Ben Brandt/);
    assert.ok(await pageA.getByRole('button', { name: 'Share Drafts' }).evaluate((el) => el === document.activeElement), 'focus returns to the Share button');

    await nav(pageB, 'Shares').click();
    await pageB.getByRole('button', { name: 'Accept Drafts' }).click();
    await status(pageB, /Accepted Drafts/);
    await pageB.getByRole('link', { name: 'Open Drafts' }).click();
    await pageB.getByText('This folder is empty.').waitFor();
    await pageB.locator('#upload-input').setInputFiles({ name: 'from-ben.txt', mimeType: 'text/plain', buffer: Buffer.from('edited at B') });
    await status(pageB, /Uploaded 1 file/);
    await shot(pageB, 'flows-02-b-upload-into-share');

    await pageA.locator('#main').getByRole('link', { name: 'Drafts', exact: true }).click();
    await pageA.getByRole('button', { name: 'from-ben.txt', exact: true }).click();
    assert.equal(await pageA.getByLabel('Content of from-ben.txt').textContent(), 'edited at B');
    await pageA.getByRole('button', { name: 'Close' }).click();

    // Uploading over an existing name asks first; "Replace" writes the new content.
    await pageA.locator('#upload-input').setInputFiles({ name: 'from-ben.txt', mimeType: 'text/plain', buffer: Buffer.from('answered at A') });
    await pageA.getByRole('dialog', { name: 'Replace from-ben.txt?' }).getByRole('button', { name: 'Replace' }).click();
    await status(pageA, /Uploaded 1 file/);
    await pageA.getByRole('button', { name: 'from-ben.txt', exact: true }).click();
    assert.equal(await pageA.getByLabel('Content of from-ben.txt').textContent(), 'answered at A');
    await pageA.getByRole('button', { name: 'Close' }).click();
  });

  it('a declined share shows as declined to its owner and is not mounted', async () => {
    await pageA.goto(a.url + '/#/files');
    await pageA.getByRole('button', { name: 'Share Private' }).click();
    await pageA.getByRole('combobox', { name: 'Recipient' }).pressSequentially('Ben');
    await pageA.getByRole('option', { name: /Ben Brandt/ }).click();
    await pageA.getByRole('dialog').getByRole('button', { name: 'Share' }).click();
    await status(pageA, /Shared Private/);

    await pageB.goto(b.url + '/#/shares');
    await pageB.getByRole('button', { name: 'Decline Private' }).click();
    await status(pageB, /Declined Private/);
    await pageB.locator('.row', { hasText: 'Private' }).getByText('Declined').waitFor();
    assert.equal(await pageB.getByRole('link', { name: 'Open Private' }).count(), 0);

    await nav(pageA, 'Shares').click();
    await pageA.locator('.row', { hasText: 'Private' }).getByText('Declined').waitFor();
    await shot(pageA, 'flows-03-a-sent-declined');

    await pageB.goto(b.url + '/#/files/Shares');
    await pageB.locator('#main').getByRole('link', { name: 'Drafts', exact: true }).waitFor();
    assert.equal(await pageB.locator('#main').getByRole('link', { name: 'Private', exact: true }).count(), 0);
    // A mount point is left by declining, so it offers neither Delete nor Rename.
    assert.equal(await pageB.getByRole('button', { name: 'Delete Drafts' }).count(), 0);
    assert.equal(await pageB.getByRole('button', { name: 'Rename Drafts' }).count(), 0);
  });

  it('shares a single file; the recipient opens it from the shares list', async () => {
    await pageA.goto(a.url + '/#/files/Drafts');
    await pageA.getByRole('button', { name: 'Share from-ben.txt' }).click();
    await pageA.getByRole('combobox', { name: 'Recipient' }).pressSequentially('ben');
    await pageA.getByRole('option', { name: /Ben Brandt/ }).click();
    await pageA.getByRole('dialog').getByRole('button', { name: 'Share' }).click();
    await status(pageA, /Shared from-ben.txt with Ben Brandt/);

    await pageB.goto(b.url + '/#/shares');
    await pageB.getByRole('button', { name: 'Accept from-ben.txt' }).click();
    await status(pageB, /Accepted from-ben.txt/);
    await pageB.getByRole('link', { name: 'Open from-ben.txt' }).click();
    const content = pageB.getByLabel('Content of from-ben.txt');
    await content.waitFor();
    assert.equal(await content.textContent(), 'answered at A');
    await shot(pageB, 'flows-04-b-file-share-opened');
    await pageB.getByRole('button', { name: 'Close' }).click();

    // Leaving an accepted share unmounts it; it can be accepted again.
    await nav(pageB, 'Shares').click();
    await pageB.getByRole('button', { name: 'Leave from-ben.txt' }).click();
    await pageB.getByRole('dialog').getByRole('button', { name: 'Leave' }).click();
    await status(pageB, /Left from-ben.txt/);
    await pageB.getByRole('button', { name: 'Accept from-ben.txt' }).waitFor();
    const shares = await b.services.namespaces.forUser('ben');
    assert.ok(!(await shares.list('/Shares')).some((e) => e.name === 'from-ben.txt'), 'no longer mounted');
  });

  it('uploads a whole folder with its subfolders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdav-web-upload-'));
    try {
      mkdirSync(join(dir, 'Report', 'data'), { recursive: true });
      writeFileSync(join(dir, 'Report', 'summary.txt'), 'summary');
      writeFileSync(join(dir, 'Report', 'data', 'values.csv'), 'a,b\n1,2\n');
      await pageA.goto(a.url + '/#/files');
      await pageA.locator('#upload-folder-input').setInputFiles(join(dir, 'Report'));
      await status(pageA, /Uploaded 2 files/);
      await pageA.locator('#main').getByRole('link', { name: 'Report', exact: true }).click();
      await pageA.locator('#main').getByRole('link', { name: 'data', exact: true }).click();
      await pageA.getByRole('button', { name: 'values.csv', exact: true }).waitFor();
      const home = await a.services.namespaces.forUser('ana');
      assert.equal((await home.stat('/Report/summary.txt')).size, 7);
      assert.equal((await home.stat('/Report/data/values.csv')).size, 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes a contact after confirmation', async () => {
    await nav(pageB, 'Contacts & invites').click();
    const address = `ana@${new URL(a.url).host}`;
    // The contact's own Remove button is unique; the address may also appear in share lines.
    await pageB.getByRole('button', { name: 'Remove contact Ana Alves' }).waitFor();
    await pageB.getByText(address).first().waitFor();
    await pageB.getByRole('button', { name: 'Remove contact Ana Alves' }).click();
    await pageB.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await status(pageB, /Contact removed/);
    await pageB.getByText('No contacts yet.').waitFor();
    assert.deepEqual([...errorsA, ...errorsB], []);
  });
});
