// The public pages (item キ) on a phone: the city's admin writes an article
// in Markdown, announces a talk and enters a figure from the city's
// statistics; a citizen, without signing in, reads them on the city's page —
// at twice the usual text size too, without the page growing sideways — and
// the pages pass an automated accessibility check (axe-core: nothing serious
// or critical). And the coordination centre downloads the data for analysis,
// which names nobody.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { installation, serve, phone, firstSignIn, accessibilityCheck, TILE } from './harness.mjs';

const fixtures = resolve('../../crates/import/tests/fixtures');

let inst;
let server;

before(async () => {
  inst = installation();
  inst.run('demo');
  inst.run('import', 'facility-standards', resolve(fixtures, 'todokede_juri_ika_synthetic.csv'), '--municipality', '122173');
  server = await serve(inst);
});

after(() => {
  server?.stop();
  inst?.remove();
});

/** YYYY-MM-DD in Japan, `days` from today. */
function dayInJapan(days) {
  const t = new Date(Date.now() + days * 86_400_000 + 9 * 3_600_000);
  return t.toISOString().slice(0, 10);
}

async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test('the city writes its page and a citizen reads it on a phone', async () => {
  const admin = await phone();
  try {
    const a = admin.page;
    await firstSignIn(a, server.base, 'city.admin', 'tsunagu-demo-2026');
    await a.goto(`${server.base}/admin/public`);
    await a.getByRole('heading', { level: 1, name: /市民向けページの編集/ }).waitFor();

    await a.getByText('お知らせ・記事を書く').click();
    await a.getByLabel('題名').fill('家で療養するという選択');
    await a.getByLabel('本文').fill('# 在宅医療とは\n\n通院が難しくなっても、**自宅で**医師や看護師の訪問を受けられます。\n\n- 訪問診療\n- 訪問看護\n\n<script>alert(1)</script>');
    await a.getByLabel(/公開する/).check();
    await a.locator('#new-article button[type=submit]').click();
    await a.waitForURL(/notice=saved/);
    await a.locator('#article-list', { hasText: '家で療養するという選択' }).waitFor();

    await a.getByText('催しを登録する').click();
    await a.getByLabel('催しの名前').fill('在宅医療市民講座「住み慣れた家で」');
    await a.getByLabel('日付').fill(dayInJapan(10));
    await a.getByLabel('開始').fill('13:30');
    await a.getByLabel(/終了/).fill('15:00');
    await a.locator('#new-event').getByLabel('場所').fill('柏市役所 本庁舎');
    await a.locator('#new-event button[type=submit]').click();
    await a.waitForURL(/notice=saved/);
    await a.locator('#event-list', { hasText: '在宅医療市民講座' }).waitFor();

    await a.locator('#metric').selectOption({ label: '在宅療養支援診療所' });
    await a.getByLabel('年度').fill('平成28');
    await a.getByLabel('数値').fill('24');
    await a.getByLabel(/出典/).fill('市の調べ');
    await a.locator('#enter-figure button[type=submit]').click();
    await a.waitForURL(/notice=saved/);
    await a.locator('#entered-figures', { hasText: '平成28年度' }).waitFor();
    assert.deepEqual(admin.errors, [], 'no script or CSP errors');
  } finally {
    await admin.browser.close();
  }

  const citizen = await phone();
  try {
    const page = citizen.page;
    await page.route(/cyberjapandata\.gsi\.go\.jp/, (route) => route.fulfill({ status: 200, contentType: 'image/png', body: TILE }));
    const check = await accessibilityCheck(page, server.base);

    await page.goto(`${server.base}/m/122173`);
    await page.getByRole('heading', { level: 1, name: '柏市 在宅医療・介護のご案内' }).waitFor();
    assert.match(await page.locator('#events').textContent(), /在宅医療市民講座「住み慣れた家で」[\s\S]*13:30〜15:00[\s\S]*柏市役所 本庁舎/);
    const table = page.locator('#figures-table');
    const row2016 = table.getByRole('row', { name: /平成28年度/ });
    assert.match(await row2016.textContent(), /24\*/);
    const now = table.getByRole('row', { name: /現在/ });
    assert.match(await now.textContent(), /\d/, 'today\'s support clinics come from the imported list');
    assert.ok(await overflow(page) <= 0, 'the page fits the phone');
    await check('the city\'s page');
    await page.screenshot({ path: '../../target/browser-public-home.png', fullPage: true });

    // Twice the text size: the table scrolls inside its box, the page does not grow sideways.
    await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
    assert.ok(await overflow(page) <= 0, `at large text the page is ${await overflow(page)}px too wide`);
    await page.evaluate(() => { document.documentElement.style.fontSize = ''; });

    await page.getByRole('link', { name: '家で療養するという選択', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '家で療養するという選択', exact: true }).waitFor();
    await page.locator('#article-body').getByRole('heading', { level: 2, name: '在宅医療とは' }).waitFor();
    assert.equal(await page.locator('#article-body li').count(), 2);
    assert.match(await page.locator('#article-body').textContent(), /<script>alert\(1\)<\/script>/, 'raw HTML is shown as text');
    await check('an article');

    await page.goto(`${server.base}/m/122173/events`);
    await page.getByRole('heading', { level: 1, name: '講座・相談会などの催し' }).waitFor();
    await check('the events');
    await page.getByRole('link', { name: '柏市 在宅医療・介護のご案内' }).click();
    await page.getByRole('link', { name: '近くの診療所・訪問看護などを探す' }).click();
    await page.getByRole('heading', { level: 1, name: /資源マップ/ }).waitFor();
    assert.deepEqual(citizen.errors, [], 'no script or CSP errors');
  } finally {
    await citizen.browser.close();
  }
});

test('the coordination centre downloads the data for analysis, which names nobody', async () => {
  const admin = await phone();
  try {
    const a = admin.page;
    const check = await accessibilityCheck(a, server.base);
    await firstSignIn(a, server.base, 'center.coord', 'tsunagu-demo-2026');
    await a.goto(`${server.base}/admin`);
    await a.locator('#admin-analysis-link').click();
    await a.getByRole('heading', { level: 1, name: /分析用データの書き出し/ }).waitFor();
    await a.getByText('含まれないもの').waitFor();
    assert.ok(await overflow(a) <= 1, 'no sideways scrolling on a phone');
    await check('the analysis page');
    const [download] = await Promise.all([a.waitForEvent('download'), a.locator('#analysis-download').click()]);
    assert.match(download.suggestedFilename(), /^analysis-122173\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split('\n');
    assert.match(lines[0], /^番号,年齢区分,性別,要介護度,日常生活圏域/);
    assert.ok(lines.length > 1, 'the demo patients with consent are in it');
    for (const secret of ['柏木', 'トメ', '増尾', 'カシワギ', '1936', '豊四季台', '膵臓がん', '慢性心不全']) {
      assert.ok(!csv.includes(secret), `${secret} is in the export`);
    }
    assert.deepEqual(admin.errors, [], 'no script or CSP errors');
  } finally {
    await admin.browser.close();
  }
});
