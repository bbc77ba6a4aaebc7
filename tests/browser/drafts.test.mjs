// Never lose typed work: a nurse writes a visit note, her session ends before
// she posts it; she signs in again and is back on the same patient's page with
// her text where she left it, posts it, and the kept draft is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installation, serve, phone, firstSignIn, totp } from './harness.mjs';

const PASSWORD = 'tsunagu-demo-2026';
const NOTE = '夜間に37.8℃。水分摂取は少なめ、明朝もう一度訪問します。';

test('a note typed before the session ended survives signing in again', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const nurse = await phone();
  try {
    const n = nurse.page;
    const secret = await firstSignIn(n, server.base, 'ns.tanaka', PASSWORD);
    await n.locator('#patient-list li a').first().click();
    await n.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
    const patientPath = new URL(n.url()).pathname;
    await n.locator('#body').fill(NOTE);

    // The session ends while she writes (expired, or ended on another device).
    await n.context().addCookies([{ name: 'tsunagu_session', value: 'ended', url: server.base }]);
    await n.getByRole('button', { name: '投稿する' }).click();
    await n.waitForURL(/\/sign-in\?/);
    const signIn = new URL(n.url());
    assert.equal(signIn.searchParams.get('notice'), 'expired');
    assert.equal(signIn.searchParams.get('next'), patientPath, 'the way back is the page she wrote on');
    await n.getByText('時間切れです').waitFor();
    await n.locator('#draft-kept').waitFor({ state: 'visible' });

    // Both sign-in steps keep the way back.
    await n.getByLabel('ログインID').fill('ns.tanaka');
    await n.getByLabel('パスワード').fill(PASSWORD);
    await n.getByRole('button', { name: '次へ' }).click();
    await n.waitForURL(/\/sign-in\/code\?next=/);
    await n.getByLabel('認証コード').fill(totp(secret, Date.now() / 1000 + 30));
    await n.getByRole('button', { name: /サインイン/ }).click();
    await n.waitForURL((url) => url.pathname === patientPath);

    // Her text is back, and she is told so.
    assert.equal(await n.locator('#body').inputValue(), NOTE);
    await n.locator('#draft-restored').waitFor({ state: 'visible' });
    await n.getByRole('button', { name: '投稿する' }).click();
    await n.waitForURL(/notice=posted/);
    await n.locator('#timeline').getByText(NOTE).waitFor();

    // Posted: the kept draft is gone.
    await n.goto(`${server.base}${patientPath}`);
    assert.equal(await n.locator('#body').inputValue(), '');
    assert.equal(await n.locator('#draft-restored').isVisible(), false);
    const kept = await n.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tsunagu-draft:')));
    assert.deepEqual(kept, []);
    assert.deepEqual(nurse.errors, []);
  } finally {
    await nurse.browser.close();
    server.stop();
  }
});
