// SPDX-License-Identifier: AGPL-3.0-or-later
// The dashboard's load in a real browser (Debian's chromium, driven by the
// console's playwright-core), figures in docs/performance.md, section
// "Dashboard summary". Logs in, then loads /console/ RUNS times in a fresh
// page at 1280x800 and prints, from navigation start (performance.now()):
//   screen: every chart in the first screen drawn (ECharts 'finished')
//   all:    every chart of the page drawn (those below drawn when idle)
// and the median of each. bench/console.sh runs it with BROWSER=1.
//
//   node bench/console_load.mjs BASE_URL USER PASSWORD [RUNS]
import { createRequire } from 'node:module'
import path from 'node:path'

const [base, user, password, runsArg] = process.argv.slice(2)
if (!base || !user || !password) {
  console.error('usage: node bench/console_load.mjs BASE_URL USER PASSWORD [RUNS]')
  process.exit(2)
}
const runs = Number(runsArg || 5)
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const require = createRequire(path.join(root, 'web/package.json'))
const { chromium } = require('playwright-core')

const browser = await chromium.launch({
  executablePath: process.env.LIAISON_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
})
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } })
const login = await ctx.request.post(base + '/console/login', { data: { user, password } })
if (!login.ok()) {
  console.error(`log-in failed: ${login.status()} ${await login.text()}`)
  process.exit(1)
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]
const screen = []
const all = []
for (let i = 0; i < runs; i++) {
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(base + '/console/')
  // polled every animation frame: the time the condition first held
  const drawn = (which) =>
    page.waitForFunction((which) => {
      const charts = [...document.querySelectorAll('[data-widget] .chart')]
      if (!charts.length) return false
      const want = which === 'screen' ? charts.filter((c) => c.getBoundingClientRect().top < window.innerHeight) : charts
      return want.every((c) => c.dataset.drawn) ? performance.now() : false
    }, which, { polling: 'raf', timeout: 60000 })
  const s = await (await drawn('screen')).jsonValue()
  const a = await (await drawn('all')).jsonValue()
  const n = await page.evaluate(() => [
    document.querySelectorAll('[data-widget] .chart').length,
    [...document.querySelectorAll('[data-widget] .chart')].filter((c) => c.getBoundingClientRect().top < window.innerHeight).length,
  ])
  if (errors.length) {
    console.error('script errors: ' + errors.join(' | '))
    process.exit(1)
  }
  screen.push(s)
  all.push(a)
  console.log(`load ${i + 1}: first screen (${n[1]} charts) ${s.toFixed(0)} ms, all ${n[0]} charts ${a.toFixed(0)} ms`)
  await page.close()
}
console.log(`median: first screen ${median(screen).toFixed(0)} ms, all charts ${median(all).toFixed(0)} ms`)
await browser.close()
