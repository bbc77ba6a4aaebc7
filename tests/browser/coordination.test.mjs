// The coordination centre's desk, as its users click through it at 390 px:
// a family asks through the public form, the desk answers and closes the
// consultation; a discharge request half-way (the demo's) is finished — the
// visiting nurse and a care manager accept on their phones, the desk creates
// the team in one step, the home doctor finds the patient with the hospital's
// handover as the first entry, and the hospital's MSW sees the team ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, firstSignIn, accessibilityCheck } from './harness.mjs';

const PASSWORD = 'tsunagu-demo-2026';

async function fitsThePhone(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${what}: the page is ${overflow}px wider than the phone`);
}

test('a consultation goes from the public form to closed', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const citizen = await phone();
  const centre = await phone(citizen.browser);
  try {
    const p = citizen.page;
    await p.goto(`${server.base}/m/122173/consult`);
    await fitsThePhone(p, 'the public form');
    await p.getByLabel('お名前', { exact: true }).fill('柏 次郎（テスト）');
    await p.getByLabel(/折り返しの連絡先/).fill('04-7100-7777');
    await p.getByLabel('相談の対象の方のお名前').fill('柏 ウメ（テスト）');
    await p.getByLabel('自宅での看取り').check();
    await p.getByLabel('ご相談の内容').fill('<b>父</b>の看取りについて');
    await p.getByRole('button', { name: '送信する' }).click();
    await p.getByText('HTMLのタグは使えません').waitFor();
    assert.equal(await p.getByLabel('お名前', { exact: true }).inputValue(), '柏 次郎（テスト）', 'what was typed is kept');
    await p.getByLabel('ご相談の内容').fill('父を自宅で看取りたいと考えています。何から始めればよいですか。');
    await p.getByRole('button', { name: '送信する' }).click();
    await p.getByRole('heading', { name: 'ご相談を受け付けました' }).waitFor();
    assert.match(await p.locator('#receipt').textContent(), /^[0-9A-F]{8}$/);

    const c = centre.page;
    const check = await accessibilityCheck(c, server.base);
    await firstSignIn(c, server.base, 'center.coord', PASSWORD);
    await c.getByRole('link', { name: '連携センター 相談窓口' }).click();
    await c.locator('#queue li', { hasText: '柏 ウメ（テスト）' }).getByRole('link').click();
    await c.getByText('父を自宅で看取りたい').waitFor();
    await fitsThePhone(c, 'the case');
    await check('a case');
    // A call back, a task, and closing (refused while the task is open).
    await c.locator('#log-kind').selectOption('phone');
    await c.getByLabel('内容').fill('長男に折り返し。在宅医療の流れを説明し、候補の在宅医を2件紹介。');
    await c.getByRole('button', { name: '記録を追加' }).click();
    await c.locator('#log').getByText('候補の在宅医を2件紹介').waitFor();
    assert.match(await c.locator('#case-state').textContent(), /対応中/);
    await c.getByLabel('題名').fill('1週間後に状況を確認');
    await c.getByRole('button', { name: 'タスクを追加' }).click();
    await c.locator('#tasks').getByText('1週間後に状況を確認').waitFor();
    await c.getByLabel('結果', { exact: true }).selectOption('referred');
    await c.getByRole('button', { name: 'この案件を終了する' }).click();
    await c.getByText('終了する理由を書いてください').waitFor();
    await c.locator('#tasks').getByRole('button', { name: '完了にする' }).click();
    await c.getByLabel('結果', { exact: true }).selectOption('referred');
    await c.getByRole('button', { name: 'この案件を終了する' }).click();
    await c.waitForURL(/notice=saved/);
    assert.match(await c.locator('#case-state').textContent(), /終了/);
    await c.getByRole('link', { name: /連携センター 相談窓口/ }).click();
    await c.locator('#closed').getByText('柏 ウメ（テスト）').waitFor();
    await check('the desk');
    await fitsThePhone(c, 'the desk');
    assert.deepEqual([...citizen.errors, ...centre.errors], []);
  } finally {
    await citizen.browser.close();
    server.stop();
    inst.remove();
  }
});

/** The first request of the centre on `page`'s home, answered "we accept". */
async function accept(page, base, login) {
  await firstSignIn(page, base, login, PASSWORD);
  await page.locator('#coordination-inbox a').first().click();
  await page.getByText('お名前と住所は、受諾されて').waitFor();
  await fitsThePhone(page, `${login}'s request`);
  await page.getByRole('button', { name: 'お受けします' }).click();
  await page.locator('#candidate-answered').waitFor();
}

test('a discharge request becomes a care team without retyping', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const centre = await phone();
  const nurse = await phone(centre.browser);
  const careManager = await phone(centre.browser);
  const doctor = await phone(centre.browser);
  const msw = await phone(centre.browser);
  try {
    // The visiting nurse accepts on her phone (the summary has no name).
    await accept(nurse.page, server.base, 'ns.tanaka');
    assert.ok(!(await nurse.page.content()).includes('根戸'), 'no name before the team exists');

    // The desk asks a care manager's office, ranked for the patient.
    const c = centre.page;
    await firstSignIn(c, server.base, 'center.coord', PASSWORD);
    await c.goto(`${server.base}/centre`);
    await c.locator('#queue li', { hasText: '根戸 みつ' }).getByRole('link').click();
    const seat = c.locator('#seat-care_manager');
    await seat.getByLabel('ケアプランセンターかしわ').check();
    await seat.getByRole('button', { name: '選んだ事業所に依頼する' }).click();
    await c.waitForURL(/notice=saved/);
    await c.locator('#seat-care_manager').getByText('回答待ち').waitFor();

    await accept(careManager.page, server.base, 'cm.yamamoto');

    // One step: patient, consent, team, and the handover as the first entry.
    await c.reload();
    await c.locator('#create-team').waitFor();
    await fitsThePhone(c, 'the team form');
    await c.getByRole('button', { name: 'チームを作成して共有を始める' }).click();
    await c.locator('#team-created').waitFor();

    const d = doctor.page;
    await firstSignIn(d, server.base, 'dr.sato', PASSWORD);
    await d.locator('#patient-list li', { hasText: '根戸 みつ' }).getByRole('link').click();
    await d.locator('.timeline').getByText('退院時の引き継ぎ').waitFor();
    assert.match(await d.locator('.timeline').textContent(), /フロセミド/, 'the hospital\'s handover, not retyped');
    await fitsThePhone(d, 'the new patient');

    const m = msw.page;
    await firstSignIn(m, server.base, 'msw.watanabe', PASSWORD);
    await m.getByRole('link', { name: '退院支援の依頼' }).click();
    await m.locator('#sent li', { hasText: '根戸 みつ' }).getByRole('link').click();
    await m.locator('#team-ready').waitFor();
    assert.match(await m.locator('#seats').textContent(), /ケアプランセンターかしわ/);
    assert.deepEqual([...centre.errors, ...nurse.errors, ...careManager.errors, ...doctor.errors, ...msw.errors], []);
  } finally {
    await centre.browser.close();
    server.stop();
    inst.remove();
  }
});
