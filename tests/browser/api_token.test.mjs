// API tokens on a phone: the doctor makes a token for the clinic's EHR on the
// account page, sees it once, the EHR (here: fetch) finds a patient by kana
// with it through the FHIR API; the doctor revokes it and it stops working.
// The account page passes an automated accessibility check (axe-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, firstSignIn, accessibilityCheck } from './harness.mjs';

let inst;
let server;

before(async () => {
  inst = installation();
  inst.run('demo');
  server = await serve(inst);
});

after(() => {
  server?.stop();
  inst?.remove();
});

async function searchAsEhr(token) {
  const url = `${server.base}/fhir/Patient?name=${encodeURIComponent('かしわぎ')}`;
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.json() };
}

test('a doctor makes a token for the EHR, and revokes it', async () => {
  const doctor = await phone();
  try {
    const p = doctor.page;
    const axe = await accessibilityCheck(p, server.base);
    await firstSignIn(p, server.base, 'dr.sato', 'tsunagu-demo-2026');
    await p.goto(`${server.base}/account`);
    const section = p.locator('#api-tokens');
    await section.getByRole('heading', { name: /APIトークン/ }).waitFor();
    await section.getByText('発行したトークンはありません。').waitFor();
    await axe('the account page');

    await section.getByLabel('名前（どこで使うか）').fill('つなぐ在宅クリニック電子カルテ');
    await section.getByLabel('バイタルを記録する').check();
    await section.getByLabel('有効期間').selectOption('30');
    await section.getByRole('button', { name: 'トークンを発行' }).click();
    await p.getByRole('heading', { name: 'APIトークンを発行しました' }).waitFor();
    const token = await p.locator('#token').inputValue();
    assert.match(token, /^tsunagu_[A-Za-z0-9_-]{40,}$/);
    const width = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(width <= 0, 'the token does not push the page sideways on a phone');
    await axe('the new token');

    const found = await searchAsEhr(token);
    assert.equal(found.status, 200);
    assert.equal(found.body.entry.length, 1);
    assert.equal(found.body.entry[0].resource.name[0].text, '柏木 トメ');

    await p.getByRole('link', { name: 'アカウント設定へ戻る' }).click();
    const listed = p.locator('#api-tokens li', { hasText: 'つなぐ在宅クリニック電子カルテ' });
    await listed.getByText(/バイタルを記録する/).waitFor();
    assert.equal(await p.locator('#api-tokens').textContent().then((t) => t.includes(token)), false, 'the token is never shown again');
    await listed.getByRole('button', { name: '失効させる' }).click();
    await p.waitForURL(/notice=token_revoked/);
    await p.locator('#api-tokens li', { hasText: '失効済み' }).waitFor();

    const refused = await searchAsEhr(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.resourceType, 'OperationOutcome');
    assert.deepEqual(doctor.errors, []);
  } finally {
    await doctor.browser.close();
  }
});
