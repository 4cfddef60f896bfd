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
// two registered feeds for the feeds page: the demo's reports' feed (a drop
// directory) and a disabled one
for (const args of [
  ['feeds', 'add', 'Accessible-ICS', '--format', 'shadowserver', '--dir', path.join(tmp, 'drop'), '--interval', '1h'],
  ['feeds', 'add', 'Idle-Feed', '--format', 'jsonl', '--url', 'http://127.0.0.1:9/none.jsonl', '--disabled'],
]) {
  const r = spawnSync(bin, ['--db', db, ...args], { encoding: 'utf8', timeout: 30000 })
  if (r.status !== 0) console.log(`feeds add: ${r.stdout}${r.stderr}`)
}
// one digest delivered (to a minimal SMTP sink here), so that an event has a
// notification for the event page to list
{
  const smtp = net.createServer((c) => {
    let data = false
    let buf = ''
    c.write('220 sink ESMTP\r\n')
    c.on('data', (d) => {
      buf += d.toString('latin1')
      let i
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 2)
        if (data) {
          if (line === '.') {
            data = false
            c.write('250 queued\r\n')
          }
        } else if (/^(EHLO|HELO)/i.test(line)) c.write('250 sink\r\n')
        else if (/^DATA/i.test(line)) {
          data = true
          c.write('354 go on\r\n')
        } else if (/^QUIT/i.test(line)) c.end('221 bye\r\n')
        else c.write('250 ok\r\n')
      }
    })
    c.on('error', () => {})
  })
  await new Promise((r) => smtp.listen(0, '127.0.0.1', r))
  const n = spawn(bin, ['--db', db, 'notify', 'run', '--smtp', `smtp://127.0.0.1:${smtp.address().port}`, '--force', '--unsigned', '--tries', '1', '--only', 'owner:demo-university'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let nout = ''
  n.stdout.on('data', (d) => (nout += d))
  n.stderr.on('data', (d) => (nout += d))
  const code = await new Promise((r) => n.once('exit', r))
  smtp.close()
  if (code !== 0) console.log(`notify run: ${nout}`)
}
const creds = {}
for (const m of demo.stdout.matchAll(/log in as (\S+)\s+password (\S+)/g)) creds[m[1]] = m[2]
check('the demo prints the console accounts', creds.analyst && creds['hk-analyst'] && creds['uni-noc'], demo.stdout.slice(-600))

// the two catalogues have the same keys
{
  const keys = (o, pre = '') => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, pre + k + '.') : [pre + k])).sort()
  const en = keys(JSON.parse(fs.readFileSync(path.join(web, 'src/locales/en.json'), 'utf8')))
  const zh = keys(JSON.parse(fs.readFileSync(path.join(web, 'src/locales/zh.json'), 'utf8')))
  eq('en.json and zh.json have the same keys', zh.filter((k) => !en.includes(k)).concat(en.filter((k) => !zh.includes(k))), [])
}

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
// expected 401 of the first session check and the refusals the checks provoke
// (400, 403, 404, 409: each checked where it is provoked)
async function open(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, ...opts })
  const page = await ctx.newPage()
  page.problems = []
  page.on('pageerror', (e) => page.problems.push(`script error at ${page.url()}: ${e.message} ${(e.stack || '').split('\n').slice(1, 4).join(' ').replace(/\s+/g, ' ')}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/\b(400|401|403|404|409)\b/.test(m.text())) page.problems.push('console: ' + m.text())
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

    // the numbers beyond the events: every one the server's
    const num = async (sel) => Number((await page.textContent(sel)).replace(/[^\d]/g, ''))
    eq('the SLA breach tile is the server count', await num('[data-test=breaches]'), sum.body.sla_breaches.total)
    eq('the open incidents tile is the server count', await num('[data-test=open]'), sum.body.incidents.open)
    const csvCounts = async (widget) => {
      // chromium drops a download that follows many others too closely
      await page.waitForTimeout(500)
      const f = await saved(page, () => page.click(`[data-widget=${widget}] button[aria-label$="CSV"]`))
      return f.bytes.toString('utf8').trim().split(/\r\n/).slice(1).map((r) => Number(r.split(',').pop()))
    }
    eq('hand-offs by state CSV is the server list', await csvCounts('handoffs'), sum.body.handoffs_by_state.map((x) => x.count))
    eq('cross-border hand-offs CSV is the server list', await csvCounts('cross-border'), sum.body.cross_border_by_state.map((x) => x.count))
    eq('incidents by status CSV is the server list', await csvCounts('incidents'), sum.body.incidents.by_status.map((x) => x.count))
    eq('top recipients CSV is the server top_partner', await csvCounts('top-partners'), sum.body.top_partner.map((x) => x.count))
    for (const x of sum.body.exposure) {
      eq(`${x.sector} exposure by protocol CSV is the server list`, await csvCounts(`exposure-${x.sector}-protocol`), x.by_protocol.map((y) => y.count))
      eq(`${x.sector} exposure by product CSV is the server list`, await csvCounts(`exposure-${x.sector}-product`), x.by_product.map((y) => y.count))
    }
    check('the demo has ICS exposure to show', sum.body.exposure.some((x) => x.sector === 'ics' && x.total > 0), JSON.stringify(sum.body.exposure.map((x) => [x.sector, x.total])))
    {
      const rows = await page.$$eval('[data-widget=feeds] tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent.trim()))
      eq('the feed health table lists the server feeds', rows, sum.body.feeds.map((f) => f.name))
    }
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
    {
      const st = await saved(page, () => page.click('[data-test=incident-export] a[href*="format=stix"]')).catch((e) => ({ name: 'none: ' + e.message, bytes: Buffer.alloc(0) }))
      let b = null
      try {
        b = JSON.parse(st.bytes.toString('utf8'))
      } catch {}
      check('the case view exports the incident as a STIX 2.1 bundle with its incident object', b && b.type === 'bundle' && b.objects.some((o) => o.type === 'incident'), `${st.name} ${st.bytes.toString('utf8').slice(0, 120)}`)
      const io = await saved(page, () => page.click('[data-test=incident-export] a[href*="format=iodef"]')).catch((e) => ({ name: 'none: ' + e.message, bytes: Buffer.alloc(0) }))
      check('the case view exports the incident as an IODEF document', io.name.endsWith('.xml') && /<(\w+:)?IODEF-Document[\s>]/.test(io.bytes.toString('utf8')), `${io.name} ${io.bytes.toString('utf8').slice(0, 120)}`)
    }

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

    // ---- the directory: change a partner, refuse a bad value next to the form, add an owner ----
    await page.goto(base + '/console/directory')
    await page.waitForSelector('[data-test=partners] tbody tr')
    const partners0 = (await api(page, '/api/v1/partners')).body.partners
    const victim = partners0[0]
    await page.click(`[data-test=partners] tr[data-party="${victim.id}"] button`)
    await page.waitForSelector('[data-test=party-form-partner]')
    eq('the edit form starts from the entry', await page.inputValue('[data-test=party-form-partner] input[name=name]'), victim.name || '')
    await axe(page, 'the directory with the edit form open')
    await page.fill('[data-test=party-form-partner] input[name=countries]', 'XX1')
    await page.click('[data-test=party-save]')
    const perr = await page.waitForSelector('[data-test=party-error]', { timeout: 5000 }).catch(() => null)
    const perrText = perr ? await perr.textContent() : ''
    check("the server's refusal is shown next to the form, naming the field", /countries/.test(perrText), perrText)
    eq('the field the server named is marked invalid', await page.getAttribute('[data-test=party-form-partner] input[name=countries]', 'aria-invalid'), 'true')
    eq('a refused change changes nothing', (await api(page, '/api/v1/partners')).body.partners[0].countries, victim.countries)
    await page.fill('[data-test=party-form-partner] input[name=countries]', (victim.countries || []).join(', '))
    const newName = 'Renamed by the browser test'
    await page.fill('[data-test=party-form-partner] input[name=name]', newName)
    await page.click('[data-test=party-save]')
    await page.waitForFunction(() => document.querySelector('[data-test=dir-notice]')?.textContent.trim(), null, { timeout: 5000 }).catch(() => {})
    const partners1 = (await api(page, '/api/v1/partners')).body.partners
    const after1 = partners1.find((x) => x.id === victim.id)
    eq("the partner's new name is in GET /api/v1/partners", after1 && after1.name, newName)
    eq('the other fields are unchanged', after1 && [after1.countries, after1.contacts, after1.agreement], [victim.countries, victim.contacts, victim.agreement])
    check('the list is read again after the save', (await page.textContent(`[data-test=partners] tr[data-party="${victim.id}"]`)).includes(newName))
    await page.screenshot({ path: path.join(out, 'shot-directory-saved.png'), fullPage: true })
    // the statistics reports' league table: shared with this partner, by a tick
    await page.click(`[data-test=partners] tr[data-party="${victim.id}"] button`)
    await page.waitForSelector('[data-test=party-form-partner]')
    eq('stats_shared starts from the entry', await page.isChecked('[data-test=party-form-partner] input[name=stats_shared]'), victim.stats_shared === true)
    await page.setChecked('[data-test=party-form-partner] input[name=stats_shared]', victim.stats_shared !== true)
    await page.click('[data-test=party-save]')
    await page.waitForSelector('[data-test=party-form-partner]', { state: 'detached', timeout: 5000 }).catch(() => {})
    const after2 = (await api(page, '/api/v1/partners')).body.partners.find((x) => x.id === victim.id)
    eq('stats_shared saved through the form', after2 && after2.stats_shared === true, victim.stats_shared !== true)

    await page.click('[data-test=add-owner]')
    await page.waitForSelector('[data-test=party-form-owner]')
    const ownerId = 'browser-test-owner'
    await page.fill('[data-test=party-form-owner] input[name=id]', ownerId)
    await page.fill('[data-test=party-form-owner] input[name=name]', 'Browser Test Networks')
    await page.fill('[data-test=party-form-owner] input[name=country]', 'CN')
    await page.fill('[data-test=party-form-owner] input[name=domains]', 'browser-test.example, shop.browser-test.example')
    await page.fill('[data-test=party-form-owner] input[name=contacts]', 'noc@browser-test.example')
    await page.screenshot({ path: path.join(out, 'shot-directory-new-owner.png'), fullPage: true })
    await page.click('[data-test=party-form-owner] [data-test=party-save]')
    await page.waitForSelector(`[data-test=owners] tr[data-party="${ownerId}"]`, { timeout: 5000 }).catch(() => {})
    const newOwner = (await api(page, '/api/v1/owners')).body.owners.find((x) => x.id === ownerId)
    eq('the owner created through the form is in GET /api/v1/owners', newOwner && [newOwner.name, newOwner.domains, newOwner.contacts],
      ['Browser Test Networks', ['browser-test.example', 'shop.browser-test.example'], ['noc@browser-test.example']])
    check('the new owner is listed', !!(await page.$(`[data-test=owners] tr[data-party="${ownerId}"]`)))
    // the same id again: the server's 409 shown in the form
    await page.click('[data-test=add-owner]')
    await page.fill('[data-test=party-form-owner] input[name=id]', ownerId)
    await page.fill('[data-test=party-form-owner] input[name=domains]', 'other.example')
    await page.fill('[data-test=party-form-owner] input[name=contacts]', 'noc@other.example')
    await page.click('[data-test=party-form-owner] [data-test=party-save]')
    const dup = await page.waitForSelector('[data-test=party-form-owner] [data-test=party-error]', { timeout: 5000 }).catch(() => null)
    check('a duplicate id is refused with the server message (409)', dup && /409/.test(await dup.textContent()), dup ? await dup.textContent() : 'no message')
    await page.click('[data-test=party-form-owner] button[type=button]')

    // ---- feeds ----
    await page.goto(base + '/console/feeds')
    await page.waitForSelector('[data-test=feeds], [data-test=feeds-empty]')
    const feedsApi = await api(page, '/api/v1/feeds')
    eq('the feeds page lists the feeds of the API', feedsApi.body.feeds.length ? await page.locator('[data-test=feeds] tbody tr').count() : 0, feedsApi.body.feeds.length)
    check('the demo has registered feeds to show', feedsApi.body.feeds.length >= 2, JSON.stringify(feedsApi.body).slice(0, 200))
    eq('each feed with its health word', await page.$$eval('[data-test=feeds] tbody tr', (t) => t.map((r) => [r.dataset.feed, r.dataset.health])),
      feedsApi.body.feeds.map((f) => [f.name, f.health]))
    const numCell = async (feed, col) => Number((await page.textContent(`[data-test=feeds] tr[data-feed="${feed}"] [data-col=${col}]`)).replace(/[^\d]/g, ''))
    const busy = feedsApi.body.feeds.find((f) => f.events_24h > 0) || feedsApi.body.feeds[0]
    eq('events in 24 h, 7 days and quarantined as the API', [await numCell(busy.name, 'events_24h'), await numCell(busy.name, 'events_7d'), await numCell(busy.name, 'quarantined')],
      [busy.events_24h, busy.events_7d, busy.quarantined])
    await axe(page, 'the feeds page')
    await page.screenshot({ path: path.join(out, 'shot-feeds.png'), fullPage: true })

    // ---- routing preview: from the events page with its filters, the API's answer ----
    await page.goto(base + `/console/events?cc=${first.key}`)
    await page.waitForSelector('[data-test=events] tbody tr')
    await page.click('[data-test=who-receives]')
    await page.waitForURL(/\/routing\?cc=/)
    await page.waitForSelector('[data-test=route-summary]')
    eq('the preview carries the filters of the events page', await page.inputValue('[data-test=route-filters] input[name=cc]'), first.key)
    const prev = (await api(page, `/api/v1/route/preview?cc=${first.key}&limit=1000`)).body
    const rowsOf = (sel) => page.$$eval(`${sel} tbody tr`, (t) => t.map((r) => [r.dataset.party, Number(r.dataset.events)]))
    eq('the preview page shows the recipients of the API', await rowsOf('[data-test=route-recipients]'), prev.recipients.map((r) => [r.party, r.events]))
    eq('the preview page shows what is not routed, as the API', prev.not_routed.length ? await rowsOf('[data-test=route-not-routed]') : [], prev.not_routed.map((r) => [r.party, r.events]))
    check('the number of events considered is shown', (await page.textContent('[data-test=route-summary]')).replace(/[^\d]/g, '').startsWith(String(prev.events)))
    await axe(page, 'the routing preview')
    await page.screenshot({ path: path.join(out, 'shot-routing.png'), fullPage: true })
    // a narrower preview through the form; "more" when the limit is reached
    await page.fill('[data-test=route-filters] input[name=limit]', '5')
    await page.click('[data-test=route-filters] button[type=submit]')
    await page.waitForURL(/limit=5/)
    await page.waitForFunction(() => /\b5\b/.test(document.querySelector('[data-test=route-summary]')?.textContent || ''), null, { timeout: 5000 }).catch(() => {})
    const prev5 = (await api(page, `/api/v1/route/preview?cc=${first.key}&limit=5`)).body
    eq('the limit goes to the server', await rowsOf('[data-test=route-recipients]'), prev5.recipients.map((r) => [r.party, r.events]))
    eq('with limit 5: more matched, said as the API says', !!(await page.$('[data-test=route-more]')), prev5.more)

    // every event (no filter): refusals by the TLP policy are listed with their reason, as the API
    await page.goto(base + '/console/routing')
    await page.waitForSelector('[data-test=route-summary]')
    const prevAll = (await api(page, '/api/v1/route/preview?limit=1000')).body
    eq('without filters: the recipients of the API', await rowsOf('[data-test=route-recipients]'), prevAll.recipients.map((r) => [r.party, r.events]))
    eq('without filters: what is not routed, as the API', prevAll.not_routed.length ? await rowsOf('[data-test=route-not-routed]') : [], prevAll.not_routed.map((r) => [r.party, r.events]))
    check('each refusal with its reason',
      (await page.$$eval('[data-test=route-not-routed] tbody tr td:nth-child(3)', (t) => t.map((x) => x.textContent))).join('|') === prevAll.not_routed.map((r) => r.reason).join('|'))
    eq('more matched than the limit: said', !!(await page.$('[data-test=route-more]')), prevAll.more)
    await page.selectOption('[data-test=lang]', 'zh')
    await page.waitForFunction(() => document.querySelector('h1')?.textContent.includes('路由预览'), null, { timeout: 5000 }).catch(() => {})
    check('Chinese: the routing preview in Chinese', (await page.textContent('h1')).includes('路由预览') && (await page.textContent('header nav')).includes('数据源'))
    await page.screenshot({ path: path.join(out, 'shot-routing-zh.png'), fullPage: true })
    await page.selectOption('[data-test=lang]', 'en')

    // ---- an event: why these recipients, the raw row, the notifications ----
    const evId = evs.body.events[0]['event.id']
    await page.goto(base + `/console/events/${evId}`)
    await page.waitForSelector('[data-test=explain-candidates], [data-test=explain] .empty')
    const ex = (await api(page, `/api/v1/events/${evId}/explain`)).body
    eq('the event page shows the candidates of route explain', await page.$$eval('[data-test=explain-candidates] tbody tr', (t) => t.map((r) => r.dataset.recipient)), ex.candidates.map((c) => c.recipient))
    const cand0 = ex.candidates[0]
    check('each candidate with its verdict and reason', !cand0 || (await page.textContent('[data-test=explain-candidates] tbody tr')).includes(cand0.reason), JSON.stringify(cand0))
    check('the parties that were not candidates are listed', (await page.$$('[data-test=explain-not] tbody tr')).length === ex.not_candidates.length)
    await page.waitForSelector('[data-test=raw-text], [data-test=raw-missing]')
    const raw = await api(page, `/api/v1/events/${evId}/raw`)
    if (raw.status === 200) eq('the raw row is the archived line', await page.textContent('[data-test=raw-text]'), raw.body.raw)
    else check('not archived: the 404 message is shown plainly', (await page.textContent('[data-test=raw-missing]')).includes(raw.body.error.message), raw.body.error?.message)
    const det = (await api(page, `/api/v1/events/${evId}`)).body
    eq('the notifications table is the event detail', det.notifications.length ? await page.locator('[data-test=notifications] tbody tr').count() : 0, det.notifications.length)
    // an event the digest above carried: its notification listed as the API lists it
    const uni = (await api(page, '/api/v1/owners')).body.owners.find((o) => o.id === 'demo-university')
    const uniEv = uni && (await api(page, `/api/v1/events?ip=${encodeURIComponent((uni.cidrs || [])[0] || '')}&limit=1`)).body.events?.[0]
    if (uniEv) {
      const ud = (await api(page, `/api/v1/events/${uniEv['event.id']}`)).body
      check('the delivered digest is a notification of its event', (ud.notifications || []).length > 0, JSON.stringify(ud.notifications))
      await page.goto(base + `/console/events/${uniEv['event.id']}`)
      await page.waitForSelector('[data-test=notifications], [data-test=notifications-empty]')
      eq('the event page lists its notifications (recipient, id, channel, outcome, to)',
        await page.$$eval('[data-test=notifications] tbody tr', (t) => t.map((r) => [...r.children].map((c, i) => (i === 3 ? '' : c.textContent.trim())))),
        (ud.notifications || []).map((x) => [x.recipient, String(x.notification), x.channel, '', x.outcome, x.to]))
      await page.screenshot({ path: path.join(out, 'shot-event-notified.png'), fullPage: true })
    } else check('the demo has an event of demo-university', false)
    await axe(page, 'the event page')
    await page.screenshot({ path: path.join(out, 'shot-event.png'), fullPage: true })
    // an event that is not archived (no such event): the page says why, no script error
    const missing = await api(page, '/api/v1/events/99999999/raw')
    eq('the raw row of a missing event is a 404', missing.status, 404)

    // ---- split an incident: events picked in the case view go to a new incident ----
    let splitFrom = null
    for (const i of items) {
      if (['closed', 'merged', 'duplicate', 'resolved', 'rejected'].includes(i.status)) continue
      const d = (await api(page, `/api/v1/incidents/${i.id}`)).body
      const evLinks = (d.links || []).filter((l) => l.kind === 'event')
      if (evLinks.length >= 2) {
        splitFrom = { id: i.id, events: evLinks.map((l) => l.ref) }
        break
      }
    }
    check('the demo has an incident with two linked events to split', !!splitFrom)
    if (splitFrom) {
      await page.goto(base + `/console/incidents/${splitFrom.id}`)
      await page.waitForSelector('[data-test=split-events]')
      const take = splitFrom.events[0]
      await page.check(`#pick-${take}`)
      await page.fill('input[name=split-title]', 'Split by the browser test')
      await axe(page, 'the case view with events picked')
      await page.screenshot({ path: path.join(out, 'shot-split.png'), fullPage: true })
      await page.click('[data-test=split-do]')
      await page.waitForURL((u) => /\/incidents\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/incidents/${splitFrom.id}`), { timeout: 5000 }).catch(() => {})
      const newId = Number(page.url().match(/\/incidents\/(\d+)/)?.[1])
      check('the split opens the new incident', newId && newId !== splitFrom.id, page.url())
      const ni = await api(page, `/api/v1/incidents/${newId}`)
      eq('the new incident is in the API with the title given', ni.status === 200 && ni.body.title, 'Split by the browser test')
      eq('it has the event picked', (ni.body.links || []).filter((l) => l.kind === 'event').map((l) => l.ref), [take])
      const old = (await api(page, `/api/v1/incidents/${splitFrom.id}`)).body
      check('the old incident no longer has it', !(old.links || []).some((l) => l.kind === 'event' && l.ref === take))
      await page.waitForSelector('h1')
      check('the new incident page is shown', (await page.textContent('h1')).includes('Split by the browser test'))
      // a refused split (the event is no longer linked to the old one): the message is shown
      await page.goto(base + `/console/incidents/${newId}`)
      await page.waitForSelector('[data-test=split-events]')
      await page.route(`**/api/v1/incidents/${newId}/split`, (r) => r.continue({ postData: JSON.stringify({ events: [Number(splitFrom.events[1])] }) }))
      await page.check(`#pick-${take}`)
      await page.click('[data-test=split-do]')
      const serr = await page.waitForSelector('[data-test=split-error]', { timeout: 5000 }).catch(() => null)
      check('a refused split shows the server message', serr && /./.test(await serr.textContent()), serr ? '' : 'no message')
      await page.unroute(`**/api/v1/incidents/${newId}/split`)
    }

    // ---- the new pages at 390 px ----
    await page.setViewportSize({ width: 390, height: 844 })
    for (const [what, url, sel] of [
      ['routing preview', `/console/routing?cc=${first.key}`, '[data-test=route-summary]'],
      ['feeds', '/console/feeds', '[data-test=feeds], [data-test=feeds-empty]'],
      ['event page', `/console/events/${evId}`, '[data-test=raw-text], [data-test=raw-missing]'],
      ['case view', `/console/incidents/${splitFrom ? splitFrom.id : items[0].id}`, '[data-test=handoffs], .card'],
    ]) {
      await page.goto(base + url)
      await page.waitForSelector(sel)
      await noOverflow(page, `${what} at 390 px`)
      await page.screenshot({ path: path.join(out, `shot-${what.replace(/ /g, '-')}-390.png`), fullPage: true })
    }
    await page.goto(base + '/console/directory')
    await page.waitForSelector('[data-test=partners]')
    await page.click(`[data-test=partners] tr[data-party="${victim.id}"] button`)
    await page.waitForSelector('[data-test=party-form-partner]')
    await noOverflow(page, 'directory with the form at 390 px')
    await page.screenshot({ path: path.join(out, 'shot-directory-390.png'), fullPage: true })
    // keyboard: the edit button is reached and opened with the keyboard, focus goes to the form
    await page.click('[data-test=party-form-partner] button[type=button]')
    await page.focus(`[data-test=partners] tr[data-party="${victim.id}"] button`)
    await page.keyboard.press('Enter')
    await page.waitForSelector('[data-test=party-form-partner]')
    check('keyboard: the edit form takes the focus', await page.evaluate(() => !!document.activeElement?.closest('[data-test=party-form-partner]')))
    await page.setViewportSize({ width: 1280, height: 800 })

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
    // an incident's STIX 2.1 bundle, from the portal's incident list
    {
      const x = await saved(page, () => page.click('[data-test=portal-incidents] tbody tr >> nth=0 >> a[href*="format=stix"]')).catch((e) => ({ name: 'none: ' + e.message, bytes: Buffer.alloc(0) }))
      let b = null
      try {
        b = JSON.parse(x.bytes.toString('utf8'))
      } catch {}
      check('the partner downloads an incident as a STIX 2.1 bundle', b && b.type === 'bundle' && Array.isArray(b.objects) && b.objects.some((o) => o.spec_version === '2.1'), `${x.name} ${x.bytes.toString('utf8').slice(0, 120)}`)
    }
    // our team's pages are not the partner's: 403 from the API, the portal in the browser
    eq('a partner gets 403 from the routing preview', (await api(page, '/api/v1/route/preview?limit=1')).status, 403)
    eq('a partner gets 403 from the feeds', (await api(page, '/api/v1/feeds')).status, 403)
    await page.goto(base + '/console/routing')
    await page.waitForURL(/\/portal/)
    check('a partner opening the routing preview lands on the portal', page.url().endsWith('/portal'), page.url())
    check('the partner has no routing or feeds link', !(await page.$('header a[href$="/routing"], header a[href$="/feeds"]')))
    eq('no script error or CSP violation (partner)', page.problems, [])
    await ctx.close()
  }
  // ---- a constituent (the university's NOC): its own networks only ----
  {
    const { ctx, page } = await open()
    await login(page, 'uni-noc', creds['uni-noc'])
    await page.waitForURL(/\/portal/)
    await page.waitForSelector('[data-test=portal-incidents], .page p')
    eq('a constituent gets 403 from the dashboard data', (await api(page, '/console/data/summary')).status, 403)
    const mine = await api(page, '/api/v1/incidents?limit=200')
    const items = mine.body.items || mine.body.incidents || mine.body
    const shownIds = await page.$$eval('[data-test=portal-incidents] tbody tr td:first-child', (t) => t.map((x) => Number(x.textContent.replace('#', ''))))
    eq('the portal lists exactly the incidents the API gives the constituent', shownIds.sort(), items.map((i) => i.id).sort())
    let onlyMine = items.length > 0
    for (const i of items) {
      const d = await api(page, `/api/v1/incidents/${i.id}`)
      if (!(d.body.handoffs || []).every((h) => h.recipient === 'demo-university')) onlyMine = false
    }
    check('every incident the constituent sees is handed to it, and shows no other recipient', onlyMine)
    const evs = await api(page, '/api/v1/events?limit=500')
    const shown = Number((await page.textContent('[data-test=portal-total]')).replace(/[^\d]/g, ''))
    check('the constituent sees its events, and the portal counts them', evs.status === 200 && evs.body.events.length > 0 && shown >= evs.body.events.length, `${shown} vs ${evs.body.events?.length}`)
    await axe(page, "the constituent's portal")
    await page.screenshot({ path: path.join(out, 'portal-constituent.png'), fullPage: true })
    eq('no script error or CSP violation (constituent)', page.problems, [])
    await ctx.close()
  }

  // ---- a signed answer link (as a digest carries), opened by a partner who is not logged in ----
  {
    // a hand-off still waiting for its answer, and a link to acknowledge it
    const { ctx: c1, page: p1 } = await open()
    await login(p1, 'analyst', creds.analyst)
    await p1.waitForSelector('[data-test=total]')
    const list = await api(p1, '/api/v1/incidents?limit=200')
    let id = 0
    let rcpt = ''
    for (const i of list.body.items || list.body.incidents || list.body) {
      const d = await api(p1, `/api/v1/incidents/${i.id}`)
      const h = (d.body.handoffs || []).find((x) => x.state === 'notified')
      if (h) {
        id = i.id
        rcpt = h.recipient
        break
      }
    }
    const made = id ? spawnSync(bin, ['--db', db, 'handoff', 'link', String(id), rcpt, 'ack'], { encoding: 'utf8', timeout: 30000 }) : null
    const link = made && made.status === 0 ? made.stdout.trim() : ''
    check('liaison handoff link makes a signed link for a notified hand-off', /^\/answer\/\d+\/\S+\/ack\/\d+\/\S+$/.test(link), `incident ${id} ${rcpt}: ${made ? made.stdout + made.stderr : 'no notified hand-off'}`)
    if (link) {
      const { ctx, page } = await open({ timezoneId: 'Asia/Phnom_Penh', locale: 'zh-CN' })
      await page.goto(base + link)
      await page.waitForSelector('form button[type=submit]')
      check('the link lands on the console\'s answer page', page.url() === base + '/console' + link, page.url())
      // in the user's language: the browser asks for Chinese
      const h1 = await page.textContent('h1')
      check('the answer page is in the browser\'s language (Chinese)', h1.includes(`LIAISON#${id}`) && /确认/.test(h1), h1)
      await axe(page, 'the answer page')
      await page.screenshot({ path: path.join(out, 'answer-zh.png'), fullPage: true })
      // opening it changed nothing
      const before = await (await page.request.get(base + link, { headers: { 'X-Requested-With': 'liaison-console' } })).json()
      eq('opening the link answers nothing yet', [before.outcome, before.recipient, before.state], ['ready', rcpt, 'notified'])
      await page.click('form button[type=submit]')
      const said = await (await page.waitForSelector('[data-test=answer-outcome]')).textContent()
      check('the page says it is done', /谢谢/.test(said) && said.includes(rcpt), said)
      await page.reload()
      const again = await (await page.waitForSelector('[data-test=answer-outcome]')).textContent()
      check('the link again: already done, and when', /无需其他操作/.test(again), again)
      // the same link without script: ?plain, the server's own page
      const plain = await page.request.get(base + link + '?plain')
      check('?plain keeps the page without script', plain.status() === 200 && (await plain.text()).includes('Already done'))
      eq('no script error or CSP violation (answer page)', page.problems, [])
      await ctx.close()
      const inc = await api(p1, `/api/v1/incidents/${id}`)
      const ho = (inc.body.handoffs || []).find((h) => h.recipient === rcpt) || {}
      eq('the hand-off is acknowledged by the recipient, through the link', [ho.state, ho.channel, ho.by], ['acknowledged', 'link', rcpt])
    }
    await c1.close()
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
