// The public resource map, without signing in, on a phone: a citizen looks
// for the 訪問看護ステーション nearest to where they are (the browser's
// location) or to a point tapped on the map, and opens its page; the list
// page passes an automated accessibility check (axe-core: nothing serious or
// critical). The registry holds the demo network plus the real 届出受理医療機関
// 名簿 excerpt and the synthetic care-office file, imported with the CLI.
// Map tiles are answered locally (the tests have no network).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { installation, serve, phone, firstSignIn, accessibilityCheck, TILE } from './harness.mjs';

const fixtures = resolve('../../crates/import/tests/fixtures');

let inst;
let server;

before(async () => {
  inst = installation();
  inst.run('demo');
  inst.run('import', 'facility-standards', resolve(fixtures, 'todokede_juri_ika_synthetic.csv'), '--municipality', '122173');
  inst.run('import', 'care-offices', resolve(fixtures, 'jigyosho_130_synthetic.csv'), '--municipality', '122173');
  server = await serve(inst);
});

after(() => {
  server?.stop();
  inst?.remove();
});

/** A phone whose tile requests are answered with a blank tile, at a given location. */
async function citizenAt(latitude, longitude) {
  const p = await phone();
  await p.page.route(/cyberjapandata\.gsi\.go\.jp/, (route) => route.fulfill({ status: 200, contentType: 'image/png', body: TILE }));
  await p.page.context().grantPermissions(['geolocation'], { origin: server.base });
  await p.page.context().setGeolocation({ latitude, longitude });
  return p;
}

async function markersLoaded(page) {
  await page.waitForFunction(() => Number(document.getElementById('map')?.dataset.loaded) > 0);
}

test('a citizen on a phone finds the nearest home nursing station and opens its page', async () => {
  // Standing in 柏の葉, a hundred metres from ひまわり訪問看護ステーション.
  const citizen = await citizenAt(35.8990, 139.9600);
  try {
    const page = citizen.page;
    await page.goto(`${server.base}/m/122173/map`);
    await page.getByRole('heading', { level: 1, name: '柏市 在宅医療・介護の資源マップ' }).waitFor();
    await markersLoaded(page);
    assert.ok(await page.locator('.leaflet-tile-loaded, .leaflet-tile').count() > 0, 'the map has tiles');

    await page.getByLabel('種別').selectOption({ label: '訪問看護ステーション' });
    await page.getByRole('button', { name: '現在地の近くを探す' }).click();
    await page.waitForURL(/lat=35\.899/);
    await page.getByRole('heading', { name: /検索結果.*近い順/ }).waitFor();
    const first = page.locator('#results > li').first();
    assert.equal((await first.getByRole('heading', { level: 3 }).textContent()).trim(), 'ひまわり訪問看護ステーション');
    assert.match(await first.locator('.distance').textContent(), /ここから約 \d+ m/);
    const kinds = await page.locator('#results .badge.kind').allTextContents();
    assert.ok(kinds.length >= 2 && kinds.every((k) => k === '訪問看護ステーション'), kinds.join());
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the list is ${overflow}px wider than the phone`);
    await page.screenshot({ path: '../../target/browser-public-map.png', fullPage: true });

    await first.getByRole('link', { name: 'ひまわり訪問看護ステーション' }).click();
    await page.getByRole('heading', { level: 1, name: 'ひまわり訪問看護ステーション' }).waitFor();
    assert.equal(await page.locator('#facility-kind').textContent(), '訪問看護ステーション');
    assert.equal(await page.getByRole('link', { name: '04-7100-0502' }).getAttribute('href'), 'tel:0471000502');
    await page.locator('#map .leaflet-marker-icon').waitFor();
    assert.deepEqual(citizen.errors, [], 'no script or CSP errors');
  } finally {
    await citizen.browser.close();
  }
});

test('a tap on the map searches near that point', async () => {
  const citizen = await citizenAt(35.8615, 139.9726);
  try {
    const page = citizen.page;
    await page.goto(`${server.base}/m/122173/map?kind=home_nursing_station`);
    await markersLoaded(page);
    // The view and the clusters animate after the markers arrive: tap once the map is still.
    await page.waitForFunction(() => !document.querySelector('#map .leaflet-zoom-anim, #map .leaflet-cluster-anim'));
    const map = page.locator('#map');
    await map.scrollIntoViewIfNeeded();
    const box = await map.boundingBox();
    // A tap near the bottom-left corner (markers keep 24 px from the edges): it offers to search there.
    await map.click({ position: { x: 12, y: box.height - 8 } });
    await page.getByRole('button', { name: 'この地点の近くを探す' }).click();
    // The new address is what counts here (the results are waited for below), not every tile's load.
    await page.waitForURL(/lat=.*lng=/, { waitUntil: 'commit' });
    assert.match(page.url(), /kind=home_nursing_station/, 'the other filters are kept');
    await page.locator('#results > li .distance').first().waitFor();
    assert.deepEqual(citizen.errors, [], 'no script or CSP errors');
  } finally {
    await citizen.browser.close();
  }
});

test('the list page and a facility page pass an automated accessibility check', async () => {
  const citizen = await citizenAt(35.8615, 139.9726);
  try {
    const page = citizen.page;
    const check = await accessibilityCheck(page, server.base);
    await page.goto(`${server.base}/m/122173/map`);
    await markersLoaded(page);
    await check('the list');
    await page.goto(`${server.base}/m/122173/map?kind=home_nursing_station&lat=35.8615&lng=139.9726`);
    await markersLoaded(page);
    await check('the list by distance');
    await page.locator('#results > li a').first().click();
    await page.locator('#facility-name').waitFor();
    await check('a facility');
    await page.goto(`${server.base}/m/122173/map/print`);
    await check('the printed list');
    assert.deepEqual(citizen.errors, [], 'no script or CSP errors');
  } finally {
    await citizen.browser.close();
  }
});

test('a citizen finds the nearest station that accepts new patients, as the station said', async () => {
  // The station says so on its own page (here the municipality's admin for it).
  const admin = await phone();
  try {
    const a = admin.page;
    await firstSignIn(a, server.base, 'city.admin', 'tsunagu-demo-2026');
    const found = await (await fetch(`${server.base}/api/public/v1/m/122173/facilities?name=${encodeURIComponent('さくら')}`)).json();
    const sakura = found.facilities[0];
    assert.match(sakura.name, /さくら/);
    await a.goto(`${server.base}/admin/facilities/${sakura.id}`);
    await a.locator('details#profile summary').click();
    await a.locator('details#profile input[name=services][value=ventilator]').check();
    await a.locator('#accepting-select').selectOption('yes');
    await a.locator('details#profile button[type=submit]').click();
    await a.waitForURL(/notice=saved/);
    assert.equal((await a.locator('#accepting').textContent()).trim().split(/\s/)[0], '受け入れ可');
  } finally {
    await admin.browser.close();
  }

  // Standing next to ひまわり (which has said nothing), the citizen ticks "accepting".
  const citizen = await citizenAt(35.8990, 139.9600);
  try {
    const page = citizen.page;
    await page.goto(`${server.base}/m/122173/map`);
    await markersLoaded(page);
    await page.getByLabel('種別').selectOption({ label: '訪問看護ステーション' });
    await page.locator('#accepting').check();
    await page.getByRole('button', { name: '現在地の近くを探す' }).click();
    await page.waitForURL(/accepting=yes/);
    const first = page.locator('#results > li').first();
    await first.waitFor();
    assert.match(await first.getByRole('heading', { level: 3 }).textContent(), /さくら/);
    assert.equal(await page.locator('#results > li', { hasText: 'ひまわり' }).count(), 0);
    assert.deepEqual(citizen.errors, [], 'no script or CSP errors');
  } finally {
    await citizen.browser.close();
  }
});
