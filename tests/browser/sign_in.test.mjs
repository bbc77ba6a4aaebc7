// A new operator redeems an invitation, signs in with a password, enrols an
// authenticator app, keeps the recovery codes, signs out, and signs in again
// with a TOTP code: on a phone-sized screen, in Japanese.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, totp } from './harness.mjs';

test('invitation, password and TOTP sign-in on a phone', async () => {
  const inst = installation();
  const created = inst.run('user', 'create', '--login', 'browser.op', '--name', 'ブラウザ 試験', '--role', 'operator');
  const code = created.match(/one-time code:\s+(\S+)/)[1];
  const server = await serve(inst);
  const { browser, page, errors } = await phone();
  try {
    const password = 'a browser pass phrase';
    await page.goto(`${server.base}/`);
    assert.match(await page.title(), /サインイン/);
    await page.getByRole('link', { name: '招待コードをお持ちの方' }).click();
    await page.getByLabel('ログインID').fill('browser.op');
    await page.getByLabel('招待コード').fill(code);
    await page.getByLabel('新しいパスワード（10文字以上）').fill(password);
    await page.getByLabel('新しいパスワード（確認）').fill(password);
    await page.getByRole('button', { name: '登録する' }).click();
    await page.getByText('パスワードを設定しました').waitFor();

    await page.getByLabel('ログインID').fill('browser.op');
    await page.getByLabel('パスワード').fill(password);
    await page.getByRole('button', { name: '次へ' }).click();
    await page.getByRole('heading', { name: '二要素認証の設定' }).waitFor();
    assert.ok(await page.locator('svg.qr').isVisible(), 'a QR code to scan');
    const secret = (await page.locator('#totp-secret').textContent()).trim();
    await page.getByLabel(/6桁のコード/).fill(totp(secret));
    await page.getByRole('button', { name: '設定する' }).click();
    await page.getByRole('heading', { name: '回復コード' }).waitFor();
    assert.equal(await page.locator('#recovery-codes li').count(), 10);
    await page.getByRole('link', { name: /保管しました/ }).click();
    await page.getByText('ブラウザ 試験さん').waitFor();
    await page.screenshot({ path: '../../target/browser-home.png', fullPage: true });

    // The page fits a phone: nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);

    await page.getByRole('button', { name: 'サインアウト' }).click();
    await page.getByText('サインアウトしました').waitFor();
    await page.getByLabel('ログインID').fill('browser.op');
    await page.getByLabel('パスワード').fill(password);
    await page.getByRole('button', { name: '次へ' }).click();
    await page.getByRole('heading', { name: '認証コードの入力' }).waitFor();
    // The code used at enrolment cannot be used again (replay guard), so use the next step's.
    await page.getByLabel('認証コード').fill(totp(secret, Date.now() / 1000 + 30));
    await page.getByRole('button', { name: 'サインイン' }).click();
    await page.getByText('ブラウザ 試験さん').waitFor();

    // English is one tap away.
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('link', { name: 'Account' }).waitFor();
    assert.deepEqual(errors, [], 'no script or CSP errors in the console');
  } finally {
    await browser.close();
    server.stop();
    inst.remove();
  }
});
