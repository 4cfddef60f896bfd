// SPDX-License-Identifier: AGPL-3.0-or-later
// The web console in a real browser (Debian's chromium, driven by
// playwright-core), against `liaison serve` on a store the demo filled:
// what an analyst and a partner CERT's user do, checked against the
// server's own answers. Prints one "console: N passed, N failed" line.
//
//   node tests/browser/console.mjs   (env: LIAISON_BIN, LIAISON_SOURCE_ROOT,
//                                     LIAISON_BROWSER_OUT for screenshots)
import { spawn, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

const root = process.env.LIAISON_SOURCE_ROOT || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')
const bin = process.env.LIAISON_BIN || path.join(root, 'build/src/cli/liaison')
const web = path.join(root, 'web')
const chromiumPath = process.env.LIAISON_CHROMIUM || '/usr/bin/chromium'
const SKIP = 77

if (!fs.existsSync(path.join(web, 'dist/index.html')) || !fs.existsSync(path.join(web, 'node_modules/playwright-core'))) {
  console.log('console: web/dist or web/node_modules missing (make builds them); skipped')
  process.exit(SKIP)
}
if (Number(process.versions.node.split('.')[0]) < 20) {
  console.log(`console: playwright-core needs Node.js 20 or later, this is ${process.versions.node}; skipped`)
  process.exit(SKIP)
}
if (!fs.existsSync(chromiumPath)) {
  console.log(`console: no browser at ${chromiumPath} (scripts/deps.sh check installs chromium); skipped`)
  process.exit(SKIP)
}
const require = createRequire(path.join(web, 'package.json'))
const { chromium } = require('playwright-core')
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'liaison-console-'))
const out = process.env.LIAISON_BROWSER_OUT || path.join(tmp, 'shots')
fs.mkdirSync(out, { recursive: true })
const db = path.join(tmp, 'liaison.db')

let passed = 0
let failed = 0
function check(name, ok, detail = '') {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || !detail ? '' : ': ' + detail}`)
}
const eq = (name, got, want) => check(name, JSON.stringify(got) === JSON.stringify(want), `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)

// ---- a store from the demo, and the server on a free 127.0.0.1 port ----
const demo = spawnSync(bin, ['--db', db, 'demo', '--data', path.join(root, 'share')], { encoding: 'utf8', timeout: 120000 })
if (demo.status !== 0) {
  console.log(demo.stdout, demo.stderr)
  console.log('console: 0 passed, 1 failed (liaison demo failed)')
  process.exit(1)
}
const creds = {}
for (const m of demo.stdout.matchAll(/log in as (\S+)\s+password (\S+)/g)) creds[m[1]] = m[2]
check('the demo prints the console accounts', creds.analyst && creds['hk-analyst'], demo.stdout.slice(-600))

const port = await new Promise((res) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port
    s.close(() => res(p))
  })
})
const base = `http://127.0.0.1:${port}`
// no --console-dir: serve finds the tree's web/dist by itself
const server = spawn(bin, ['--db', db, 'serve', '--listen', `127.0.0.1:${port}`, '--node-sync', '0', '--access-log', path.join(tmp, 'access.log')], {
  stdio: ['ignore', 'ignore', 'pipe'],
  env: { ...process.env, LIAISON_CONSOLE_DIR: '' },
})
let serverErr = ''
server.stderr.on('data', (d) => (serverErr += d))
let up = false
for (let i = 0; i < 100 && !up; i++) {
  try {
    up = (await fetch(base + '/health')).ok
  } catch {
    await new Promise((r) => setTimeout(r, 100))
  }
}
if (!up) {
  server.kill('SIGKILL')
  console.log(serverErr)
  console.log('console: 0 passed, 1 failed (liaison serve did not start)')
  process.exit(1)
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
})

// every page: no script error, no CSP violation, no failed request but the
// expected 401 of the first session check
async function open(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...opts })
  const page = await ctx.newPage()
  page.problems = []
  page.on('pageerror', (e) => page.problems.push('script error: ' + e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|403|404/.test(m.text())) page.problems.push('console: ' + m.text())
  })
  return { ctx, page }
}
async function login(page, user, password) {
  await page.goto(base + '/console/')
  await page.fill('input[name=user]', user)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
}
async function api(page, p) {
  const r = await page.request.get(base + p)
  return { status: r.status(), body: r.headers()['content-type']?.includes('json') ? await r.json() : await r.text() }
}
async function axe(page, what) {
  await page.evaluate(axeSource)
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  check(`axe: no serious or critical violation on ${what}`, bad.length === 0,
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`).join(' | '))
}
async function saved(page, click) {
  const [d] = await Promise.all([page.waitForEvent('download'), click()])
  return { name: d.suggestedFilename(), bytes: fs.readFileSync(await d.path()) }
}
async function noOverflow(page, what) {
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
  check(`${what}: no sideways scrolling (${w[0]} <= ${w[1]})`, w[0] <= w[1] + 1)
}

try {
  // ---- our analyst ----
  {
    const { ctx, page } = await open({ timezoneId: 'Asia/Shanghai' })
    await page.goto(base + '/console/')
    await page.waitForSelector('input[name=user]')
    await axe(page, 'the log-in page')
    await page.fill('input[name=user]', 'analyst')
    await page.fill('input[name=password]', 'not-the-password')
    await page.click('button[type=submit]')
    const err = await page.waitForSelector('[role=alert]')
    check('a wrong password is refused with a message', /./.test(await err.textContent()))

    await login(page, 'analyst', creds.analyst)
    await page.waitForSelector('[data-test=total]')
    const cookies = await ctx.cookies()
    const c = cookies.find((x) => x.name.includes('liaison_session'))
    check('the session cookie is HttpOnly and SameSite=Strict', c && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(c))

    const sum = await api(page, '/console/data/summary?days=30&top=10')
    eq('the summary answers our team', sum.status, 200)
    const shown = (await page.textContent('[data-test=total]')).replace(/[^\d]/g, '')
    eq('the dashboard total is the server total', Number(shown), sum.body.total)
    const cnt = await api(page, '/api/v1/stats?by=cc')
    check('the server total is the store count', cnt.status === 200 && JSON.stringify(cnt.body).length > 2)

    // the map: drawn, and its data (CSV) is the server's by country
    await page.waitForSelector('[data-widget=map] canvas')
    const mapCsv = await saved(page, () => page.click('[data-widget=map] button[aria-label$="CSV"]'))
    const lines = mapCsv.bytes.toString('utf8').trim().split(/\r\n/)
    eq('map CSV: one row per country of the summary', lines.length - 1, sum.body.by_country.length)
    const first = sum.body.by_country[0]
    check('map CSV: the first country with its count', lines[1] && lines[1].endsWith(',' + first.count), `${lines[1]} vs ${JSON.stringify(first)}`)
    const link = await page.$(`[data-widget=map] a[href*="cc=${first.key}"]`)
    check('the map lists each country with a link to its events', !!link)

    const png = await saved(page, () => page.click('[data-widget=top-countries] button[aria-label$="PNG"]'))
    check('PNG export is a PNG', png.bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), png.name)
    const svg = await saved(page, () => page.click('[data-widget=over-time] button[aria-label$="SVG"]'))
    check('SVG export is an SVG document', /^<svg[\s>]/.test(svg.bytes.toString('utf8')), svg.bytes.toString('utf8').slice(0, 60))
    const csv = await saved(page, () => page.click('[data-widget=by-class] button[aria-label$="CSV"]'))
    const csvRows = csv.bytes.toString('utf8').trim().split(/\r\n/).slice(1)
    eq('by-class CSV is the server by_class', csvRows.map((r) => Number(r.split(',').pop())), sum.body.by_class.map((x) => x.count))

    await page.screenshot({ path: path.join(out, 'dashboard-1280.png'), fullPage: true })
    await page.emulateMedia({ media: 'print' })
    const pdf = await page.pdf({ format: 'A4', printBackground: true })
    check('the dashboard prints to PDF', pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 20000, `${pdf.length} bytes`)
    await page.emulateMedia({ media: 'screen' })
    await axe(page, 'the dashboard')

    // through from the country list (the map's keyboard path) to the events
    await link.focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/events\?cc=/)
    await page.waitForSelector('table')
    const evs = await api(page, `/api/v1/events?cc=${first.key}&limit=1`)
    check('the country link opens its events', evs.status === 200 && (await page.locator('table tbody tr').count()) > 0)

    // Chinese, then back; the choice is kept across a reload
    await page.goto(base + '/console/')
    await page.waitForSelector('[data-test=total]')
    await page.selectOption('[data-test=lang]', 'zh')
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
    const nav = await page.textContent('header nav')
    check('Chinese: the navigation is in Chinese', nav.includes('仪表板') && nav.includes('事件单'), nav)
    await page.reload()
    await page.waitForSelector('[data-test=total]')
    check('Chinese: kept after a reload', (await page.textContent('header nav')).includes('仪表板'))
    await page.screenshot({ path: path.join(out, 'dashboard-zh.png'), fullPage: true })
    await page.selectOption('[data-test=lang]', 'en')

    // the incident queue is the API's list
    await page.goto(base + '/console/incidents')
    await page.waitForSelector('[data-test=incidents] tbody tr')
    const list = await api(page, '/api/v1/incidents?limit=200')
    const items = list.body.items || list.body.incidents || list.body
    const rows = await page.locator('[data-test=incidents] tbody tr').count()
    const zhDate = await page.evaluate(() => document.body.innerText.match(/\d{4}-\d\d-\d\d \d\d:\d\d \S+/)?.[0] || '')
    eq('the queue shows every incident of the API', rows, items.length)
    await axe(page, 'the incident queue')
    await page.selectOption('select[name=status]', 'new')
    await page.click('form.filters button[type=submit]')
    await page.waitForTimeout(300)
    const newOnes = items.filter((i) => i.status === 'new').length
    eq('the status filter narrows the queue', await page.locator('[data-test=incidents] tbody tr').count(), newOnes)

    // a status change through the allowed transitions
    const target = items.find((i) => i.status === 'new') || items[0]
    await page.goto(base + `/console/incidents/${target.id}`)
    await page.waitForSelector('[data-test=status]')
    const before = await api(page, `/api/v1/incidents/${target.id}`)
    const offered = await page.$$eval('[data-test=status-to] option', (o) => o.map((x) => x.value).filter(Boolean))
    const allowed = (before.body.allowed_status || []).filter((x) => x !== 'merged' && x !== 'duplicate')
    eq('the case view offers exactly the allowed transitions', offered, allowed)
    if (offered.length) {
      const to = offered.includes('triaged') ? 'triaged' : offered[0]
      await page.selectOption('[data-test=status-to]', to)
      await page.click('[data-test=status-to] >> xpath=../../button')
      await page.waitForFunction((s) => document.querySelector('[data-test=status]')?.textContent.includes(s), to, { timeout: 5000 }).catch(() => {})
      const after = await api(page, `/api/v1/incidents/${target.id}`)
      eq('the status change reached the server', after.body.status, to)
    }
    await page.waitForSelector('[data-test=handoffs], .card')
    await axe(page, 'the case view')
    await page.screenshot({ path: path.join(out, 'incident-1280.png'), fullPage: true })

    // a narrow screen
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(base + '/console/')
    await page.waitForSelector('[data-test=total]')
    await noOverflow(page, 'dashboard at 390 px')
    await page.screenshot({ path: path.join(out, 'dashboard-390.png'), fullPage: true })
    await page.goto(base + '/console/incidents')
    await page.waitForSelector('[data-test=incidents]')
    await noOverflow(page, 'incident queue at 390 px')

    // keyboard: the first Tab reaches the skip link, Enter moves to the content
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.goto(base + '/console/')
    await page.waitForSelector('[data-test=total]')
    await page.keyboard.press('Tab')
    eq('keyboard: the first Tab is the skip link', await page.evaluate(() => document.activeElement?.className), 'skip')

    // log-out ends the session on the server
    await page.click('header button:has-text("Log out"), header .prefs button')
    await page.waitForSelector('input[name=user]')
    eq('after log-out the API answers 401', (await api(page, '/api/v1/incidents')).status, 401)
    eq('no script error or CSP violation (analyst)', page.problems, [])
    check(`dates in the user's zone (${zhDate})`, /GMT\+8|CST|UTC\+8/.test(zhDate), zhDate)
    await ctx.close()
  }

  // ---- the partner CERT's user: only what was handed to it ----
  {
    const { ctx, page } = await open({ timezoneId: 'Asia/Hong_Kong' })
    await login(page, 'hk-analyst', creds['hk-analyst'])
    await page.waitForURL(/\/portal/)
    await page.waitForSelector('[data-test=portal-incidents], .page p')
    eq('a partner gets 403 from the dashboard data', (await api(page, '/console/data/summary')).status, 403)
    const mine = await api(page, '/api/v1/incidents?limit=200')
    const items = mine.body.items || mine.body.incidents || mine.body
    const shownIds = await page.$$eval('[data-test=portal-incidents] tbody tr td:first-child', (t) => t.map((x) => Number(x.textContent.replace('#', ''))))
    eq('the portal lists exactly the incidents the API gives the partner', shownIds.sort(), items.map((i) => i.id).sort())
    let allHanded = true
    for (const i of items) {
      const d = await api(page, `/api/v1/incidents/${i.id}`)
      if (!(d.body.handoffs || []).every((h) => h.recipient === 'sample-hk-cert')) allHanded = false
    }
    check('every incident the partner sees is handed to it, and shows no other recipient', items.length > 0 && allHanded)
    await axe(page, 'the partner portal')
    await page.screenshot({ path: path.join(out, 'portal-1280.png'), fullPage: true })

    // an incident not handed to it is a 404, in the API and in the page
    const own = await api(page, '/api/v1/incidents/999999')
    eq('an incident it may not see answers 404', own.status, 404)

    const open1 = []
    for (const i of items) {
      const d = await api(page, `/api/v1/incidents/${i.id}`)
      if ((d.body.handoffs || []).some((h) => h.state === 'notified' || h.state === 'pending')) open1.push(i.id)
    }
    check('the demo leaves the partner an incident to acknowledge', open1.length > 0)
    if (open1.length) {
      await page.goto(base + `/console/incidents/${open1[0]}`)
      await page.waitForSelector('[data-test=handoffs]')
      await page.click('.answer button:not([disabled])')
      await page.waitForTimeout(500)
      const d = await api(page, `/api/v1/incidents/${open1[0]}`)
      eq('the partner acknowledged through the portal', d.body.handoffs[0].state, 'acknowledged')
      await page.fill('textarea', 'Seen on our side; the owner is informed.')
      await page.click('form.form-col button[type=submit]')
      await page.waitForTimeout(500)
      const d2 = await api(page, `/api/v1/incidents/${open1[0]}`)
      check('the partner comment is stored', (d2.body.comments || []).some((c) => c.body.includes('owner is informed')))
      await axe(page, "the partner's case view")
    }
    // its data: CSV from the portal
    await page.goto(base + '/console/portal')
    await page.waitForSelector('[data-test=portal-total]')
    await page.waitForSelector('section[aria-labelledby=dl-h] button:not([disabled])')
    const dl = await saved(page, () => page.click('section[aria-labelledby=dl-h] button >> nth=0')).catch(async (e) => ({
      name: 'none: ' + ((await page.textContent('.page')) || '').slice(0, 300) + ' ' + page.problems.join('; '),
      bytes: Buffer.alloc(0),
    }))
    check('the partner downloads its events as CSV', dl.name.endsWith('.csv') && dl.bytes.length > 0, dl.name)
    eq('no script error or CSP violation (partner)', page.problems, [])
    await ctx.close()
  }
} catch (e) {
  check('the browser run finished', false, e.stack || String(e))
} finally {
  await browser.close()
  server.kill('SIGTERM')
  await new Promise((r) => server.once('exit', r))
  if (!process.env.LIAISON_BROWSER_OUT) fs.rmSync(tmp, { recursive: true, force: true })
}
console.log(`screenshots: ${out}`)
console.log(`console: ${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
