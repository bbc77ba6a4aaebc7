// Starts a tsunagu server on a fresh SQLite installation and opens headless
// Chromium at a phone-sized viewport. Used by the *.test.mjs files.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const binary = resolve(process.env.TSUNAGU_BIN ?? '../../target/debug/tsunagu');

/** A fresh installation in a temp dir; `run` calls the CLI there. */
export function installation() {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagu-browser-'));
  const env = { ...process.env };
  delete env.TSUNAGU_DATABASE_URL;
  delete env.TSUNAGU_CONFIG;
  const run = (...args) => execFileSync(binary, args, { cwd: dir, encoding: 'utf8', env });
  return { dir, run, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `tsunagu serve` on a free port and waits until /readyz answers.
 * Ports come from below the kernel's ephemeral range (32768+), where outgoing
 * connections take theirs; a port taken anyway is retried with another. */
export async function serve(inst) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const env = { ...process.env };
    delete env.TSUNAGU_DATABASE_URL;
    const server = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`], { cwd: inst.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout.on('data', (d) => { log += d; });
    server.stderr.on('data', (d) => { log += d; });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && server.exitCode === null; i++) {
      try {
        const r = await fetch(`${base}/readyz`);
        if (r.ok) return { base, stop: () => server.kill('SIGTERM'), log: () => log };
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    server.kill('SIGKILL');
    if (!log.includes('Address already in use')) throw new Error(`server did not start:\n${log}`);
  }
  throw new Error('no free port after five attempts');
}

/** Headless Chromium (Debian's) sized like a phone. */
export async function phone(existing) {
  const browser = existing ?? await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ja-JP', isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const errors = [];
  // Refused form input (4xx) is part of the flows; scripts failing, CSP blocks,
  // missing static files and server errors are not.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4(01|03|22|29)/.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 500 || (r.status() === 404 && r.url().includes('/static/'))) errors.push(`${r.status()} ${r.url()}`); });
  return { browser, page, errors };
}

/** First sign-in of an account without a second factor: password, then enrolment. Returns the TOTP secret. */
export async function firstSignIn(page, base, login, password) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('ログインID').fill(login);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: '次へ' }).click();
  await page.getByRole('heading', { name: '二要素認証の設定' }).waitFor();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  await page.getByLabel(/6桁のコード/).fill(totp(secret));
  await page.getByRole('button', { name: '設定する' }).click();
  await page.getByRole('link', { name: /保管しました/ }).click();
  return secret;
}

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
export function totp(secretBase32, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

/** A blank 1×1 PNG for every map tile (the tests have no network). */
export const TILE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

/**
 * Prepares `page` for accessibility checks and returns `check(what)`, which
 * runs axe-core on the page as it is and fails on any serious or critical
 * violation. axe-core is served from the tested origin: the CSP refuses
 * inline scripts, which is what addScriptTag({ path }) would make of it.
 */
export async function accessibilityCheck(page, base) {
  const axe = resolve('node_modules/axe-core/axe.min.js');
  await page.route(`${base}/axe.min.js`, (route) => route.fulfill({ path: axe, contentType: 'text/javascript' }));
  return async (what) => {
    await page.addScriptTag({ url: `${base}/axe.min.js` });
    const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(serious, [], `${what}: no serious or critical accessibility violations`);
  };
}
