#!/usr/bin/env node
// The relayer's status page in a real browser: node tools/page-test.mjs <relayer-base-url> <screenshot.png>
//
// Drives Debian's Chromium (tools/install-chromium.sh; $CHROMIUM to use another) through
// playwright-core: opens <base>/, checks the title, waits (PAGE_TEST_TIMEOUT_MS, 45000 by
// default) until a batch shows `data-batch-state="finalized"`, checks that the page showed the
// batch proving or its progress changing on the way there, and that nothing went wrong in the
// page (console errors, uncaught exceptions, failed requests). Screenshots: the whole page at
// 1280x900 to <screenshot.png>, and at 390x844 to <screenshot>-mobile.png. Exit 0 on success;
// else 1 with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, shot] = process.argv.slice(2);
if (!base || !shot) {
  console.error('usage: node tools/page-test.mjs <relayer-base-url> <screenshot-path>');
  process.exit(2);
}
const TIMEOUT_MS = Number(process.env.PAGE_TEST_TIMEOUT_MS) || 45000;
const root = new URL(base.replace(/\/*$/, '/')).href;
const statusUrl = new URL('v1/status', root).href;
const { dir, name, ext } = path.parse(shot);
const mobileShot = path.join(dir, `${name}-mobile${ext}`);

const step = (msg) => console.log(`page-test: ${msg}`);
class Failure extends Error {}
const fail = (msg) => { throw new Failure(msg); };

// The status endpoint is expected to fail now and then: 503 until the relayer's first snapshot,
// 429 from its rate limiter, refused while it restarts. The page shows its banner and retries,
// which is not an error of the page. Chromium still logs each 4xx/5xx or network failure of a
// fetch as a console error "Failed to load resource: …" (and a `requestfailed` event for a
// network failure); those are ignored ONLY when the URL is the status endpoint (counted and
// printed). Every other console error, uncaught exception or failed request fails the test.
const isStatus = (url) => { try { const u = new URL(url); return u.origin + u.pathname === statusUrl; } catch { return false; } };
const errors = [];
let statusFailures = 0;

const userDataDir = mkdtempSync(path.join(tmpdir(), 'crowdprove-page-test-'));
let context;
let code = 1;
try {
  step(`launching ${process.env.CHROMIUM || '/usr/bin/chromium'}`);
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    const where = msg.location()?.url ?? '';
    if (msg.type() === 'error') {
      if (msg.text().startsWith('Failed to load resource') && isStatus(where)) { statusFailures++; return; }
      errors.push(`console error: ${msg.text()}${where ? ` (${where})` : ''}`);
    } else if (msg.type() === 'warning') {
      step(`console warning (not failing): ${msg.text()}`);
    }
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (req) => {
    if (isStatus(req.url())) { statusFailures++; return; }
    errors.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText ?? '?'}`);
  });
  const pageText = async () => (await page.evaluate(() => document.body?.innerText ?? '').catch(() => ''))
    .replace(/\s*\n\s*/g, '\n').trim().slice(0, 4000);
  // The batches section (one line per card), and whether a batch shows proving or finalized.
  // Runs in the page.
  const batches = () => page.evaluate(() => ({
    text: [...(document.getElementById('batches')?.children ?? [])]
      .map((e) => e.innerText.replace(/\s+/g, ' ').trim()).join('\n'),
    proving: !!document.querySelector('[data-batch-state="proving"]'),
    finalized: !!document.querySelector('[data-batch-state="finalized"]'),
  }));

  step(`opening ${root}`);
  const response = await page.goto(root, { waitUntil: 'load', timeout: 15000 });
  if (!response?.ok()) fail(`GET ${root} answered ${response?.status()}`);
  const title = await page.title();
  if (!title.includes('CrowdProve')) fail(`the title is "${title}", without "CrowdProve"`);
  step(`title: ${title}`);

  const deadline = Date.now() + TIMEOUT_MS;
  const left = () => Math.max(1, deadline - Date.now());
  step('waiting for the first status');
  await page.waitForSelector('body[data-status="ok"]', { timeout: left() }).catch(async () =>
    fail(`no status rendered within ${TIMEOUT_MS} ms; the page reads:\n${await pageText()}`));
  const first = (await batches()).text;
  step(`batches at first load:\n    ${first.replaceAll('\n', '\n    ')}`);

  step('waiting for [data-batch-state="finalized"]');
  let sawProving = false, changed = false, now = first;
  for (;;) {
    const s = await batches();
    sawProving ||= s.proving;
    if (s.text !== now) { changed = true; now = s.text; }
    if (s.finalized) break;
    if (Date.now() >= deadline) fail(`no batch finalized within ${TIMEOUT_MS} ms; the page reads:\n${await pageText()}`);
    await page.waitForTimeout(200);
  }
  step(`batches at finalization:\n    ${now.replaceAll('\n', '\n    ')}`);
  if (!sawProving && !changed) fail('the page never showed a batch proving, nor its progress changing: it cannot tell a live page from a stale one');
  step(`seen: ${sawProving ? 'a batch proving' : 'no batch proving'}, ${changed ? 'progress changing' : 'no change'}`);

  await page.screenshot({ path: shot, fullPage: true });
  step(`screenshot 1280x900: ${shot}`);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: mobileShot, fullPage: true });
  step(`screenshot 390x844: ${mobileShot}`);
  if (overflow > 0) fail(`at 390 px the page is ${overflow} px wider than the screen`);

  if (statusFailures) step(`ignored ${statusFailures} failed status poll(s) (the page retries them)`);
  if (errors.length) fail(`${errors.length} error(s) in the page`);
  step('ok');
  code = 0;
} catch (e) {
  console.error(`page-test: FAILED: ${e instanceof Failure ? e.message : e?.stack ?? e}`);
  if (errors.length) console.error(`page-test: errors in the page:\n  ${errors.join('\n  ')}`);
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
