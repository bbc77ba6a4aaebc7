// The backup system on phones: the city's administrator forms a physician
// group, fills next month's on-call roster in turn and sees a recorded
// absence show up as a conflict and two overlapping absences as a coverage
// gap; the hospital's social worker updates its free backup beds; a visiting
// nurse sees who answers now (with on-call numbers), asks for an admission
// and escalates to the hospitals at once; the hospital accepts from its home
// screen; the nurse records the outcome. The demo already has a group of the
// same two physicians (with on-call mobiles) and the hospital taking part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installation, serve, phone, firstSignIn } from './harness.mjs';

const PASSWORD = 'tsunagu-demo-2026';
const HOSPITAL = '柏みなみ総合病院';

// Tokyo wall-clock helpers: the roster and the absence form speak JST.
const JST_MS = 9 * 3600 * 1000;
const pad = (n) => String(n).padStart(2, '0');
const jst = (ms) => {
  const d = new Date(ms + JST_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), H: d.getUTCHours(), M: d.getUTCMinutes() };
};
/** `YYYY-MM-DDTHH:MM`, as a datetime-local input takes it. */
const localInput = (ms) => {
  const p = jst(ms);
  return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.H)}:${pad(p.M)}`;
};
// Against the layout viewport: on a phone-sized (isMobile) page that is too
// wide, Chromium zooms out and window.innerWidth grows with the content.
const overflowOf = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('groups, rosters, absences, backup beds and an escalated admission request on phones', async () => {
  const inst = installation();
  inst.run('demo');
  const server = await serve(inst);
  const admin = await phone();
  const hospital = await phone(admin.browser);
  const nurse = await phone(admin.browser);

  const today = jst(Date.now());
  const [ny, nm] = today.m === 12 ? [today.y + 1, 1] : [today.y, today.m + 1];
  const nextMonth = `${ny}-${pad(nm)}`;
  // The first night of next month: 18:00 JST on the 1st, 09:00 UTC.
  const firstNight = Date.UTC(ny, nm - 1, 1, 9, 0) / 1000;
  // Pages wider than the phone, reported together at the end.
  const layout = [];
  const fits = async (page, what) => {
    const overflow = await overflowOf(page);
    if (overflow > 0) layout.push(`${what} is ${overflow}px wider than the phone`);
  };
  try {
    // 1. The municipality's administrator forms a group of two physicians.
    const a = admin.page;
    await firstSignIn(a, server.base, 'city.admin', PASSWORD);
    await a.goto(`${server.base}/backup`);
    await a.locator('#groups details summary').click();
    await a.locator('#group-name').fill('手賀沼 在宅医ネット');
    await a.locator('#group-area').fill('手賀沼・布施');
    await a.locator('form[action="/backup/groups"]').getByRole('button').click();
    await a.waitForURL(/\/backup\/groups\/[0-9a-f-]{36}\?notice=created/);
    const groupUrl = a.url().split('?')[0];
    await a.getByRole('heading', { name: /手賀沼 在宅医ネット/ }).waitFor();

    // The first member with an on-call mobile number.
    await a.locator('#add-member input[name=login_id]').fill('dr.sato');
    await a.locator('#add-member input[name=phone]').fill('090-1111-2222');
    await a.locator('#add-member button[type=submit]').click();
    await a.waitForURL(/notice=saved/);
    await a.locator('#members tbody tr', { hasText: '佐藤 一郎' }).waitFor();
    // The second one picked from the suggestions (hiragana finds the katakana furigana).
    await a.locator('#add-member input[name=login_id]').pressSequentially('すずき');
    await a.waitForFunction(() => document.querySelectorAll('#colleague-list option').length > 0);
    const suggestion = await a.locator('#colleague-list option').first().getAttribute('value');
    assert.equal(suggestion, 'dr.suzuki — 鈴木 二郎');
    await a.locator('#add-member input[name=login_id]').fill(suggestion);
    await a.locator('#add-member button[type=submit]').click();
    await a.locator('#members tbody tr', { hasText: '鈴木 二郎' }).waitFor();
    assert.equal(await a.locator('#members tbody tr').count(), 2);
    assert.match(await a.locator('#members tbody tr', { hasText: '佐藤 一郎' }).textContent(), /090-1111-2222/);

    // Next month's roster: empty until filled in turn.
    await a.locator(`#roster a[href*="month=${nextMonth}"]`).click();
    await a.waitForURL(new RegExp(`month=${nextMonth}`));
    await a.locator('#roster-title', { hasText: nextMonth }).waitFor();
    const slots = a.locator('#roster select[name^="slot_"]');
    const slotCount = await slots.count();
    assert.ok(slotCount >= 28, `every night of the month is a slot (${slotCount})`);
    assert.equal(await a.locator('#roster tr.problem-hole').count(), slotCount, 'an empty roster is all holes');
    await a.locator('#roster button[name=action][value=fill]').click();
    await a.waitForURL(new RegExp(`month=${nextMonth}.*notice=saved`));
    await a.locator('#roster-status').getByText('空き・重複なし').waitFor();
    assert.equal(await a.locator('#roster tr.problem').count(), 0, 'no holes or conflicts after filling');
    const assigned = await slots.evaluateAll((ss) => ss.map((s) => s.value));
    assert.ok(assigned.every((v) => v !== ''), 'every slot has a physician');
    assert.equal(new Set(assigned).size, 2, 'both members take turns');
    assert.ok(assigned.every((v, i) => i === 0 || v !== assigned[i - 1]), 'nobody works two slots running');
    await fits(a, 'the group page');

    // Whoever has the first night is away then: recorded on the group page
    // (each form is sent from a fresh load, so that each redirect is awaited).
    const nightSelect = a.locator(`select[name="slot_${firstNight}"]`);
    const onCall = await nightSelect.inputValue();
    const onCallName = (await nightSelect.locator('option:checked').textContent()).trim();
    const recordAbsence = async (physician, from, to, reason, note) => {
      await a.goto(groupUrl);
      await a.locator('#absences details summary').click();
      await fits(a, 'the group page with its absence form open');
      await a.locator('#absence-physician').selectOption(physician);
      await a.locator('#starts_at').fill(from);
      await a.locator('#ends_at').fill(to);
      await a.locator('#reason').selectOption(reason);
      await a.locator('#absence-note').fill(note);
      await a.locator('#absence-note').press('Enter');
      await a.waitForURL(/notice=saved/);
    };
    await recordAbsence(onCall, `${nextMonth}-01T18:00`, `${nextMonth}-02T09:00`, 'conference', '日本在宅医療連合学会');
    // Both physicians away at once within the next 30 days (ending long before
    // next month's first slot): a gap for the patients they share.
    const gapFrom = localInput(Date.now() + 3600 * 1000);
    const gapTo = localInput(Date.now() + 2 * 3600 * 1000);
    for (const name of ['佐藤 一郎', '鈴木 二郎']) {
      await recordAbsence({ label: name }, gapFrom, gapTo, 'other', '地区医師会の研修');
    }

    // The roster now shows the conflict; the coverage section the gap.
    await a.goto(`${groupUrl}?month=${nextMonth}`);
    await a.locator('#roster-status').getByText('不在と重なる 1').waitFor();
    assert.equal(await a.locator('#absences li').count(), 3, 'the three absences are listed');
    assert.match(await a.locator('#absences li', { hasText: '日本在宅医療連合学会' }).textContent(), new RegExp(onCallName));
    assert.equal(await a.locator('#roster tr.problem-absent').count(), 1, 'exactly the first night conflicts');
    const conflict = a.locator(`#roster tr:has(select[name="slot_${firstNight}"])`);
    assert.match(await conflict.getAttribute('class'), /\bproblem-absent\b/);
    assert.match(await conflict.textContent(), /不在予定と重なっています/);
    await a.locator('#coverage').waitFor();
    assert.equal(await a.locator('#coverage #no-gaps').count(), 0);
    assert.equal(await a.locator('#coverage li.gap').count(), 1, 'one gap, when both are away');
    const gap = await a.locator('#coverage li.gap').textContent();
    assert.match(gap, /3人/, 'the three demo patients have nobody then');
    assert.match(gap, /佐藤 一郎/);
    assert.match(gap, /鈴木 二郎/);
    await fits(a, 'the group page with a conflict and a gap');
    await a.screenshot({ path: '../../target/browser-roster.png', fullPage: true });

    await a.goto(`${server.base}/backup`);
    const listed = a.locator('#groups li', { hasText: '手賀沼 在宅医ネット' });
    assert.match(await listed.textContent(), /メンバー 2人/);
    assert.match(await a.locator('#recruitment').textContent(), /グループに参加している診療所: 2/);

    // 2. The hospital's social worker: the demo hospital takes part with two
    // free beds; tonight it has three (and no children).
    const h = hospital.page;
    await firstSignIn(h, server.base, 'msw.watanabe', PASSWORD);
    await h.goto(`${server.base}/backup`);
    const ward = h.locator('#hospitals .hospital', { hasText: HOSPITAL });
    await ward.getByText('空床 2').waitFor();
    assert.ok(await ward.locator('input[name=participates]').isChecked());
    await ward.locator('input[name=beds_available]').fill('3');
    await ward.locator('input[name=note]').fill('小児不可');
    await ward.getByRole('button', { name: '保存する' }).click();
    await h.waitForURL(/notice=saved/);
    await ward.getByText('空床 3').waitFor();
    assert.match(await ward.textContent(), /小児不可/);
    await fits(h, 'the backup page');
    assert.ok(await ward.locator('input[name=participates]').isChecked());

    // 3. The visiting nurse: who answers now, then an admission request.
    const n = nurse.page;
    await firstSignIn(n, server.base, 'ns.tanaka', PASSWORD);
    await n.locator('#patient-list li', { hasText: '柏木 トメ' }).getByRole('link').click();
    const chain = n.locator('section#who-answers ol.chain');
    await chain.waitFor();
    const primary = chain.locator('li.chain-primary');
    assert.match(await primary.textContent(), /佐藤 一郎/);
    // The on-call mobile given in a group (the demo's or ours), not the clinic's line.
    assert.match(await primary.locator('a[href^="tel:"]').getAttribute('href'), /^tel:090-/);
    const backup = chain.locator('li.chain-backup');
    assert.match(await backup.textContent(), /鈴木 二郎/);
    // He gave an on-call mobile in the demo group (none in ours): that one, not his clinic's line.
    assert.match(await backup.locator('a[href^="tel:"]').getAttribute('href'), /^tel:090-/, 'the backup physician\'s on-call mobile');
    assert.match(await chain.locator('li.chain-hospital').textContent(), new RegExp(`${HOSPITAL}[\\s\\S]*空床 3`));
    assert.equal(await n.locator('#who-answers .away').count(), 0, 'nobody is away now');

    // This patient goes back to that hospital first.
    await n.locator('details#backup-hospital summary').click();
    await n.locator('details#backup-hospital select[name=hospital]').selectOption({ label: HOSPITAL });
    await n.locator('details#backup-hospital button[type=submit]').click();
    await n.waitForURL(/notice=saved/);
    assert.equal(await n.locator('details#backup-hospital select[name=hospital] option:checked').textContent(), HOSPITAL);
    await fits(n, 'the patient page');

    await n.locator('details#raise-request summary').click();
    await n.locator('details#raise-request input[name=kind][value=admission]').check();
    await n.locator('details#raise-request textarea[name=note]').fill('SpO2 86%、呼吸苦増強。入院をお願いします。');
    await n.locator('details#raise-request button[type=submit]').click();
    await n.waitForURL(/\/urgent\/[0-9a-f-]{36}\?notice=raised/);
    const requestUrl = n.url().split('?')[0];
    assert.match(await n.locator('#request-state').textContent(), /呼び出し中/);
    const first = n.locator('ol.steps li.step').first();
    assert.match(await first.getAttribute('class'), /\bfired\b/, 'the primary physician is called at once');
    assert.match(await first.textContent(), /佐藤 一郎/);

    // No time to wait for the physicians: the backup hospitals, now.
    await n.locator('form[action$="/hospitals"] button[type=submit]').click();
    await n.waitForURL(/notice=saved/);
    const called = n.locator('ol.steps li.step.fired', { hasText: HOSPITAL });
    await called.waitFor();
    assert.match(await called.textContent(), /バックアップ病院/);
    assert.match(await n.locator('#request-state').textContent(), /呼び出し中/);
    await fits(n, 'the request page');

    // 4. The hospital finds it on its home screen and accepts.
    await h.goto(`${server.base}/home`);
    const waiting = h.locator('section#waiting-requests li', { hasText: '入院依頼' });
    await waiting.waitFor();
    assert.match(await waiting.textContent(), /バックアップ病院/);
    await waiting.getByRole('link').click();
    await h.waitForURL(requestUrl);
    assert.match(await h.locator('.request-note').textContent(), /SpO2 86%/);
    // Whom to call back, and the patient's wishes (or that none are recorded).
    assert.match(await h.locator('#requester').textContent(), /依頼した人/);
    assert.equal(await h.locator('#requester a[href^="tel:"]').count(), 1, 'the requester\'s station can be called');
    assert.ok((await h.locator('#request-acp').textContent()).trim().length > 0);
    await fits(h, 'the request page with the hospital\'s answer form');
    await h.locator('form#hospital-answer input[name=reason]').fill('3階東病棟で受け入れます。救急外来へ。');
    await h.locator('form#hospital-answer button[name=answer][value=accept]').click();
    await h.waitForURL(/notice=saved/);
    await h.locator('#accepted-by strong', { hasText: HOSPITAL }).waitFor();
    assert.match(await h.locator('#request-state').textContent(), /病院が受け入れ/);
    assert.equal(await h.locator('form#hospital-answer').count(), 0, 'answered once');
    await h.screenshot({ path: '../../target/browser-urgent.png', fullPage: true });
    await h.goto(`${server.base}/home`);
    await h.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await h.locator('#waiting-requests').count(), 0, 'nothing waits any more');

    // The nurse is told, and closes the request with its outcome.
    await n.goto(`${server.base}/home`);
    await n.locator('#notifications li.notice-urgent_accepted').waitFor();
    await n.goto(requestUrl);
    await n.locator('#accepted-by strong', { hasText: HOSPITAL }).waitFor();
    await n.locator('#outcome-form select[name=outcome]').selectOption('admitted');
    await n.locator('#outcome-form input[name=note]').fill('救急車で搬送。');
    await n.locator('#outcome-form button[type=submit]').click();
    await n.waitForURL(/notice=saved/);
    await n.locator('#outcome strong', { hasText: '入院' }).waitFor();
    assert.match(await n.locator('#outcome').textContent(), /救急車で搬送。/);
    assert.match(await n.locator('#request-state').textContent(), /終了/);
    assert.equal(await n.locator('#request-actions').count(), 0, 'a closed request takes no more actions');

    // The admitting ward still reads it (its time-limited access to the
    // record started with the acceptance), but takes no action any more.
    await h.goto(requestUrl);
    await h.locator('#outcome strong', { hasText: '入院' }).waitFor();
    assert.equal(await h.locator('form#hospital-answer').count(), 0);
    assert.equal(await h.locator('#request-actions').count(), 0);

    assert.deepEqual(layout, [], 'every page fits the phone');
    assert.deepEqual([...admin.errors, ...hospital.errors, ...nurse.errors], [], 'no script or CSP errors');
  } finally {
    await admin.browser.close();
    server.stop();
    inst.remove();
  }
});

// Nobody answers: the request climbs the chain by itself (timers in the
// database, checked every second; drill timing of two seconds per link) until
// the backup hospital is called; the hospital, answering late, still takes
// the patient, and every step is on the page with its time.
test('an unanswered urgent visit climbs to the backup hospital by itself', async () => {
  const inst = installation();
  inst.run('demo');
  writeFileSync(join(inst.dir, 'tsunagu.toml'), '[escalation]\ncheck_seconds = 1\ndrill_step_seconds = 2\n');
  const server = await serve(inst);
  const nurse = await phone();
  const hospital = await phone(nurse.browser);
  try {
    const h = hospital.page;
    await firstSignIn(h, server.base, 'msw.watanabe', PASSWORD);
    const n = nurse.page;
    await firstSignIn(n, server.base, 'ns.tanaka', PASSWORD);
    await n.locator('#patient-list li', { hasText: '増尾 勝' }).getByRole('link').click();
    await n.locator('details#raise-request summary').click();
    await n.locator('details#raise-request textarea[name=note]').fill('疼痛増強、レスキュー無効。往診をお願いします。');
    await n.locator('details#raise-request button[type=submit]').click();
    await n.waitForURL(/\/urgent\/[0-9a-f-]{36}\?notice=raised/);
    const requestUrl = n.url().split('?')[0];

    // Reload until the hospital has been called (at most 30 s).
    const hospitalStep = n.locator('ol.steps li.step.fired', { hasText: HOSPITAL });
    for (let i = 0; i < 60 && (await hospitalStep.count()) === 0; i++) {
      await n.waitForTimeout(500);
      await n.goto(requestUrl);
    }
    await hospitalStep.waitFor();
    const physicians = n.locator('ol.steps li.step', { hasText: /主治医|副主治医/ });
    assert.ok((await physicians.count()) >= 2, 'the primary and the backup were called first');
    for (const text of await physicians.allTextContents()) {
      assert.match(text, /連絡 \d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'each call has its time');
      assert.match(text, /応答なし（次へ）/, 'and moved on when nobody answered');
    }

    // The hospital sees it waiting (even if the chain has run out by now) and accepts.
    await h.goto(`${server.base}/home`);
    const waiting = h.locator('section#waiting-requests li', { hasText: '往診依頼' });
    await waiting.waitFor();
    await waiting.getByRole('link').click();
    await h.waitForURL(requestUrl);
    await h.locator('form#hospital-answer button[name=answer][value=accept]').click();
    await h.waitForURL(/notice=saved/);
    await h.locator('#accepted-by strong', { hasText: HOSPITAL }).waitFor();
    assert.match(await h.locator('#request-state').textContent(), /病院が受け入れ/);
    assert.match(await h.locator('ol.steps li.step', { hasText: HOSPITAL }).textContent(), /受け入れ/);

    await n.goto(requestUrl);
    await n.locator('#accepted-by strong', { hasText: HOSPITAL }).waitFor();
    assert.deepEqual([...nurse.errors, ...hospital.errors], [], 'no script or CSP errors');
  } finally {
    await nurse.browser.close();
    server.stop();
    inst.remove();
  }
});
