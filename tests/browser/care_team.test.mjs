// The heart of tsunagu on a phone: a visiting nurse registers a patient,
// records consent, adds the doctor, posts a visit record with vital signs;
// the doctor sees it as unread, reads it, and the nurse sees the read receipt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, firstSignIn } from './harness.mjs';

test('nurse and doctor share a patient record on phones', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const nurse = await phone();
  const doctor = await phone(nurse.browser);
  try {
    const n = nurse.page;
    await firstSignIn(n, server.base, 'ns.tanaka', 'tsunagu-demo-2026');
    await n.getByRole('heading', { name: '担当の患者さん' }).waitFor();
    assert.equal(await n.locator('#patient-list li').count(), 3, 'the demo patients are listed');
    // Search as you type (htmx): kana typed in hiragana finds the katakana name.
    await n.getByPlaceholder('氏名・ふりがなで検索').fill('かしわぎ');
    await n.waitForFunction(() => document.querySelectorAll('#patient-list li').length === 1);
    assert.match(await n.locator('#patient-list').textContent(), /柏木 トメ/);
    await n.getByPlaceholder('氏名・ふりがなで検索').fill('');
    await n.waitForFunction(() => document.querySelectorAll('#patient-list li').length === 3);

    await n.getByRole('link', { name: /患者さんを登録/ }).click();
    await n.getByLabel('姓', { exact: true }).fill('手賀');
    await n.getByLabel('名', { exact: true }).fill('静子');
    await n.getByLabel('せい（カナ）').fill('テガ');
    await n.getByLabel('めい（カナ）').fill('シズコ');
    await n.getByLabel('生年月日').fill('1939-07-07');
    await n.getByLabel('所在地').fill('千葉県柏市手賀100');
    await n.getByLabel('要介護度').selectOption('care_3');
    await n.getByLabel('在宅酸素').check();
    await n.getByRole('button', { name: '登録する' }).click();
    await n.getByText('まだ同意が記録されていません').waitFor();

    await n.getByRole('button', { name: '同意を記録する' }).click();
    await n.getByText('同意を記録しました').waitFor();
    await n.getByLabel('メンバーを追加').fill('dr.sato');
    await n.getByLabel('チームでの役割').selectOption('primary_physician');
    await n.getByRole('button', { name: 'メンバーを追加' }).click();
    await n.locator('#team').getByText('佐藤 一郎').waitFor();

    await n.getByLabel('訪問記録').check();
    await n.getByLabel('内容').fill('初回訪問。呼吸状態安定。酸素2L継続。');
    await n.getByText('バイタルを入力').click();
    await n.getByLabel('体温 (℃)').fill('36.9');
    await n.getByLabel('血圧 上').fill('124');
    await n.getByLabel('血圧 下').fill('70');
    await n.getByLabel('SpO2 (%)').fill('94');
    await n.getByRole('button', { name: '投稿する' }).click();
    await n.getByText('投稿しました').waitFor();
    await n.locator('.timeline').getByText('初回訪問。呼吸状態安定。').waitFor();
    assert.match(await n.locator('#latest-vitals').textContent(), /SpO2 94%/);
    const overflow = await n.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the patient page is ${overflow}px wider than the phone`);
    await n.screenshot({ path: '../../target/browser-patient.png', fullPage: true });

    // An impossible blood pressure is refused with a clear message.
    await n.getByLabel('バイタル', { exact: true }).check();
    await n.getByText('バイタルを入力').click();
    await n.getByLabel('血圧 上').fill('80');
    await n.getByLabel('血圧 下').fill('120');
    await n.getByRole('button', { name: '投稿する' }).click();
    await n.getByText('血圧の下（拡張期）は上（収縮期）より低い値にしてください。').waitFor();

    const d = doctor.page;
    await firstSignIn(d, server.base, 'dr.sato', 'tsunagu-demo-2026');
    const row = d.locator('#patient-list li', { hasText: '手賀 静子' });
    await row.getByText('未読 1').waitFor();
    await row.getByRole('link').click();
    await d.locator('.entry.unread').getByText('初回訪問。呼吸状態安定。').waitFor();
    await d.screenshot({ path: '../../target/browser-doctor.png', fullPage: true });

    // The doctor answers under the visit record.
    const visit = d.locator('.timeline > li', { hasText: '初回訪問。呼吸状態安定。' });
    await visit.getByRole('link', { name: '返信' }).first().click();
    await d.locator('#replying-to').getByText('初回訪問。呼吸状態安定。').waitFor();
    await d.getByLabel('内容').fill('了解しました。酸素は2Lのまま継続してください。');
    await d.getByRole('button', { name: '投稿する' }).click();
    await d.getByText('投稿しました').waitFor();
    await d.locator('.timeline > li', { hasText: '初回訪問。呼吸状態安定。' })
      .locator('ol.replies').getByText('酸素は2Lのまま継続').waitFor();

    await n.goto(`${server.base}/home`);
    await n.locator('#patient-list li', { hasText: '手賀 静子' }).getByRole('link').click();
    await n.getByRole('link', { name: '既読 1' }).click();
    await n.locator('#read-receipts').getByText('佐藤 一郎').waitFor();
    assert.deepEqual([...nurse.errors, ...doctor.errors], [], 'no script or CSP errors');
  } finally {
    await nurse.browser.close();
    server.stop();
    inst.remove();
  }
});
