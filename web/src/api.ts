// SPDX-License-Identifier: AGPL-3.0-or-later
// Every request the console makes. The session is an HttpOnly cookie the
// server set at log-in; every state-changing request carries the session's
// CSRF token (X-CSRF-Token), which the server checks (src/console/console.c).
// The browser is never the guard: what a user may see is decided by the server.
import { reactive } from 'vue'

export interface Who {
  user: string
  org: string
  role: string
  org_kind: 'own' | 'partner' | 'constituent'
  csrf: string
}

export const session = reactive<{ who: Who | null; checked: boolean }>({ who: null, checked: false })

export class ApiError extends Error {
  status: number
  code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = 'http_' + res.status
  let msg = res.statusText || 'request failed'
  try {
    const j = await res.json()
    if (j && j.error) {
      code = j.error.code
      msg = j.error.message
    } else if (j && (j.detail || j.title)) {
      msg = j.detail || j.title
    }
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(res.status, code, msg)
}

// GETs started before the page that reads them exists (main.ts: the
// dashboard's data while its chunks load); each answer is used once
const early = new Map<string, Promise<Response>>()
export function prefetch(path: string): void {
  if (!early.has(path)) early.set(path, fetch(path, { headers: { Accept: 'application/json', 'X-Requested-With': 'liaison-console' }, credentials: 'same-origin' }))
}

export async function request<T>(method: string, path: string, body?: unknown, raw?: Blob, type?: string): Promise<T> {
  // X-Requested-With: the server then challenges a 401 with its log-in scheme, not Basic
  // (a Basic challenge would make the browser prompt for a password)
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'liaison-console' }
  let payload: BodyInit | undefined
  if (method !== 'GET' && session.who) headers['X-CSRF-Token'] = session.who.csrf
  if (raw) {
    payload = raw
    headers['Content-Type'] = type || 'application/octet-stream'
  } else if (body !== undefined) {
    payload = JSON.stringify(body)
    headers['Content-Type'] = 'application/json'
  }
  const pre = method === 'GET' ? early.get(path) : undefined
  if (pre) early.delete(path)
  const res = await (pre || fetch(path, { method, headers, body: payload, credentials: 'same-origin' }))
  if (res.status === 401 && !path.endsWith('/login')) {
    session.who = null
  }
  if (!res.ok) throw await errorOf(res)
  return (await res.json()) as T
}

export const get = <T>(path: string) => request<T>('GET', path)

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? '?' + s : ''
}

// the dashboard's data: one address for DashboardView and for main.ts,
// which asks for it early (the answer is taken once by the same path)
export const DASHBOARD_DAYS = 30
export const dashboardPath = (days: number) => '/console/data/summary' + query({ days, top: 10 })

let checking: Promise<void> | null = null
export function loadSession(): Promise<void> {
  checking ||= (async () => {
    try {
      session.who = await get<Who>('/console/session')
    } catch {
      session.who = null
    }
    session.checked = true
    checking = null
  })()
  return checking
}

export async function login(user: string, password: string): Promise<void> {
  session.who = await request<Who>('POST', '/console/login', { user, password })
}

export async function logout(): Promise<void> {
  try {
    await request('POST', '/console/logout')
  } finally {
    session.who = null
  }
}

/* ---- the shapes the server answers (share/api/openapi.json) ---- */

export interface KeyCount {
  key: string
  count: number
}

export interface Sla {
  clock: string
  target_seconds: number | null
  used_seconds: number | null
  started: string | null
  due: string | null
  paused: boolean
  breached: boolean
  timezone: string | null
}

export interface Handoff {
  recipient: string
  state: string
  created: string
  notified: string | null
  acknowledged: string | null
  resolved: string | null
  rejected: string | null
  reason: string | null
  updated: string
  by: string | null
  channel: string | null
  sla?: Sla
}

export interface Incident {
  id: number
  title: string
  description: string
  classification: string
  severity: string
  tlp: string
  countries: string[]
  sectors: string[]
  status: string
  waiting: boolean
  owner: string | null
  created: string
  updated: string
  merged_into?: number | null
  handoffs?: Handoff[]
  comments?: { id: number; at: string; author: string; visibility: string; body: string }[]
  attachments?: { id: number; name: string; media_type: string; size: number; sha256: string; at?: string }[]
  timeline?: { seq: number; at: string; actor: string; channel: string; object: string; action: string }[]
  links?: { kind: string; ref: string; at: string }[]
  // the linked events (our team), an event pruned from the store from the
  // incident's own copy, marked with when it was pruned
  events?: Record<string, unknown>[]
  allowed_status?: string[]
}

export type EventRow = Record<string, string | number | boolean | null>

export interface Party {
  id: string
  name: string
  countries?: string[]
  networks?: string[]
  asns?: number[]
  contacts?: string[]
  languages?: string[]
  timezone?: string
  tlp_max?: string
  channels?: string[]
  agreement?: boolean
  stats_shared?: boolean
  [k: string]: unknown
}

export interface Feed {
  name: string
  provider: string
  format: string
  url: string | null
  dir: string | null
  interval_seconds: number | null
  enabled: boolean
  tlp: string | null
  health: 'ok' | 'late' | 'failing' | 'disabled'
  late: boolean
  failing: boolean
  last_fetch: string | null
  last_ok: string | null
  last_error: string | null
  last_report: string | null
  reports: number
  rows: number
  events: number
  quarantined: number
  events_24h: number
  events_7d: number
  events_per_second: number
}

export type PartyKind = 'partner' | 'owner' | null

export interface RoutePreview {
  events: number
  more: boolean
  recipients: { party: string; kind: PartyKind; events: number }[]
  not_routed: { party: string; kind: PartyKind; reason: string; events: number }[]
}

export interface Decision {
  recipient: string
  verdict: string
  rule?: string | null
  reason?: string | null
  decided?: string | null
  notified?: string | null
}

export interface RouteExplanation {
  event: { id: number; report: number; line: number }
  home_country: string | null
  mode: 'first' | 'all'
  owner: { party: string; via: string } | null
  candidates: {
    recipient: string
    party: string | null
    kind: PartyKind
    verdict: string
    rule: string | null
    found: string
    reason: string
    tlp_max?: string
    agreement?: boolean
  }[]
  not_candidates: { party: string; kind: 'partner' | 'owner'; reason: string }[]
  recorded: Decision[]
}

export interface EventRaw {
  event: number
  report: number
  line: number
  feed: string
  name: string
  encoding: 'utf-8' | 'base64'
  raw: string
}

export interface EventNotification {
  recipient: string
  notification: number
  channel: string
  at: string
  outcome: string
  to: string
}

export interface EventDetail {
  event: EventRow
  incidents: number[]
  routing?: Decision[]
  notifications?: EventNotification[]
}

// The event filters of GET /api/v1/events, which GET /api/v1/route/preview takes too.
export const EVENT_FILTERS = ['since', 'until', 'cc', 'asn', 'ip', 'class', 'feed', 'report'] as const
export type EventFilter = (typeof EVENT_FILTERS)[number]
