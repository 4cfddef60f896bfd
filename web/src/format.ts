// SPDX-License-Identifier: AGPL-3.0-or-later
// Dates in the user's time zone (the browser's, or the one chosen in the
// header), in the language of the interface.
import { ref } from 'vue'

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('liaison.tz') : null
export const timeZone = ref<string>(stored || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC')

export function setTimeZone(tz: string): void {
  timeZone.value = tz
  localStorage.setItem('liaison.tz', tz)
}

export function zones(): string[] {
  const all = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf
  const list = all ? all('timeZone') : []
  const cur = timeZone.value
  return list.includes(cur) ? list : [cur, ...list]
}

export function fmtTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '–'
  const d = new Date(iso)
  if (isNaN(d.getTime())) return iso
  // 2026-12-06 19:50 UTC: the order CERTs write, whatever the language
  const parts = new Intl.DateTimeFormat(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: timeZone.value,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(d)
  const p = (t: string) => parts.find((x) => x.type === t)?.value || ''
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${p('timeZoneName')}`
}

export function fmtNumber(n: number, locale: string): string {
  return new Intl.NumberFormat(locale === 'zh' ? 'zh-CN' : 'en-GB').format(n)
}

export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined) return '–'
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h ? `${h} h ${m} min` : `${m} min`
}

/* A file the browser saves (CSV, JSON, PNG, SVG): a blob: link, clicked. */
export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function toCsv(rows: (string | number | boolean | null | undefined)[][]): string {
  const cell = (v: string | number | boolean | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v)
    // a leading = + - @ would be a formula in a spreadsheet: quote it with a '
    const safe = /^[=+\-@\t\r]/.test(s) && isNaN(Number(s)) ? "'" + s : s
    return /[",\r\n]/.test(safe) ? '"' + safe.replace(/"/g, '""') + '"' : safe
  }
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'
}
