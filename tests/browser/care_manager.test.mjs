// A care manager on a phone: finds a colleague by typing a name in kana,
// adds the home helper to the team, asks the doctor by @mention, records the
// advance care plan after a family meeting, and narrows the timeline to one
// author. The doctor then finds the mention first on the home screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, firstSignIn } from './harness.mjs';

test('a care manager coordinates the team from a phone', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const careManager = await phone();
  const doctor = await phone(careManager.browser);
  try {
    const c = careManager.page;
    await firstSignIn(c, server.base, 'cm.yamamoto', 'tsunagu-demo-2026');
    await c.locator('#patient-list li', { hasText: '柏木 トメ' }).getByRole('link').click();

    // The member picker searches as one types (hiragana finds the katakana furigana).
    await c.getByLabel('メンバーを追加').pressSequentially('なかむら');
    await c.waitForFunction(() => document.querySelectorAll('#colleagues option').length > 0);
    const suggestion = await c.locator('#colleagues option').first().getAttribute('value');
    assert.equal(suggestion, 'hh.nakamura — 中村 ゆい');
    await c.getByLabel('メンバーを追加').fill(suggestion);
    await c.getByLabel('チームでの役割').selectOption('home_helper');
    await c.getByRole('button', { name: 'メンバーを追加' }).click();
    await c.locator('#team').getByText('中村 ゆい').waitFor();

    await c.getByLabel('連絡', { exact: true }).check();
    await c.getByLabel('内容').fill('@dr.sato 来週の担当者会議の日程について、ご都合を教えてください。');
    await c.getByRole('button', { name: '投稿する' }).click();
    await c.getByText('投稿しました').waitFor();

    // Narrow the timeline to the care manager's own entries.
    await c.getByText('職種・記入者・期間で絞り込む').click();
    await c.getByLabel('記入者').selectOption({ label: '山本 ケイ' });
    await c.getByRole('button', { name: '表示' }).first().click();
    await c.locator('.timeline').getByText('担当者会議の日程').waitFor();
    const authors = await c.locator('.timeline .entry strong').allTextContents();
    assert.ok(authors.length > 0 && authors.every((a) => a === '山本 ケイ'), `only her entries: ${authors}`);

    // The advance care plan after the family meeting.
    await c.getByRole('link', { name: '人生会議を記録・履歴を見る' }).click();
    await c.getByLabel('話し合った日').fill('2026-11-20');
    await c.getByLabel('参加者').fill('本人、長女、ケアマネジャー、訪問看護師');
    await c.getByLabel('療養したい場所').selectOption('home');
    await c.getByLabel('最期を迎えたい場所').selectOption('home');
    await c.getByRole('button', { name: '記録する' }).click();
    await c.getByText('本人、長女、ケアマネジャー、訪問看護師').first().waitFor();
    const overflow = await c.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);

    // She asks for notification mails (they carry no patient data).
    await c.goto(`${server.base}/account`);
    const mails = c.locator('#email-notifications');
    await mails.getByLabel(/お知らせをメールで受け取る/).check();
    await mails.getByRole('button').click();
    await c.waitForURL(/notice=saved/);
    await c.reload();
    assert.ok(await c.locator('#email-notifications').getByLabel(/cm\.yamamoto@example\.jp/).isChecked());

    const d = doctor.page;
    await firstSignIn(d, server.base, 'dr.sato', 'tsunagu-demo-2026');
    const notice = d.locator('#notifications li', { hasText: '山本 ケイさんがあなた宛てに書き込みました' });
    await notice.waitFor();
    await notice.getByRole('link').click();
    await d.locator('.timeline').getByText('担当者会議の日程').waitFor();
    assert.deepEqual([...careManager.errors, ...doctor.errors], [], 'no script or CSP errors');
  } finally {
    await careManager.browser.close();
    server.stop();
    inst.remove();
  }
});
