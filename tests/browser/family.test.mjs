// A family member on a phone: invited by the care manager (inviting family is
// for the team's leads, docs/security.md), registers with
// the printed code, sees what the team shares with the family, writes to the
// doctor only, and sees who has read the record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, firstSignIn } from './harness.mjs';

test('a family member takes part from a phone', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const nurse = await phone();
  const family = await phone(nurse.browser);
  const careManager = await phone(nurse.browser);
  try {
    const n = nurse.page;
    await firstSignIn(n, server.base, 'ns.tanaka', 'tsunagu-demo-2026');
    await n.locator('#patient-list li', { hasText: '増尾 勝' }).getByRole('link').click();
    await n.getByLabel('内容').fill('本日は痛みも落ち着いて、よく眠れていました。');
    await n.getByLabel('ご家族にも共有する').check();
    await n.getByRole('button', { name: '投稿する' }).click();
    await n.getByText('投稿しました').waitFor();
    assert.equal(await n.locator('#family-invite').count(), 0, 'a visiting nurse does not invite family');
    const c = careManager.page;
    await firstSignIn(c, server.base, 'cm.yamamoto', 'tsunagu-demo-2026');
    await c.locator('#patient-list li', { hasText: '増尾 勝' }).getByRole('link').click();
    await c.locator('#family-invite summary').click();
    await c.locator('#family_login').fill('masuo.family');
    await c.locator('#family_name').fill('増尾 花子');
    await c.locator('#family_relation').fill('妻');
    await c.locator('#family-invite').getByRole('button', { name: 'ご家族を招待' }).click();
    const code = (await c.locator('#issued-code').textContent()).trim();

    const f = family.page;
    await f.goto(`${server.base}/invite`);
    await f.getByLabel('ログインID').fill('masuo.family');
    await f.getByLabel('招待コード').fill(code);
    await f.getByLabel('新しいパスワード（10文字以上）').fill('family pass phrase');
    await f.getByLabel('新しいパスワード（確認）').fill('family pass phrase');
    await f.getByRole('button', { name: '登録する' }).click();
    await f.getByText('パスワードを設定しました').waitFor();
    await firstSignIn(f, server.base, 'masuo.family', 'family pass phrase');
    await f.locator('#patient-list li', { hasText: '増尾 勝' }).getByRole('link').click();
    await f.getByText('本日は痛みも落ち着いて').waitFor();
    assert.equal(await f.getByText('定期訪問。表情穏やか。').count(), 0, 'team-only entries stay with the team');
    assert.equal(await f.getByText('メンバーを追加').count(), 0);

    await f.getByLabel('内容').fill('夜間の痛み止めの使い方を先生に相談したいです。');
    await f.getByLabel('医師だけに').check();
    await f.getByRole('button', { name: '投稿する' }).click();
    await f.getByText('投稿しました').waitFor();
    await f.screenshot({ path: '../../target/browser-family.png', fullPage: true });
    const overflow = await f.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the family page is ${overflow}px wider than the phone`);

    await f.getByRole('link', { name: '閲覧履歴' }).first().click();
    await f.locator('#access-log').getByText('田中 花子').first().waitFor();

    // The nurse does not see the message for the doctor only.
    await n.goto(`${server.base}/home`);
    await n.locator('#patient-list li', { hasText: '増尾 勝' }).getByRole('link').click();
    assert.equal(await n.getByText('夜間の痛み止めの使い方').count(), 0);
    assert.deepEqual([...nurse.errors, ...family.errors], [], 'no script or CSP errors');
  } finally {
    await nurse.browser.close();
    server.stop();
    inst.remove();
  }
});
