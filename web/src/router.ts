// SPDX-License-Identifier: AGPL-3.0-or-later
import { createRouter, createWebHistory } from 'vue-router'
import { session, loadSession } from './api'
import LoginView from './views/LoginView.vue'
import IncidentsView from './views/IncidentsView.vue'
import IncidentView from './views/IncidentView.vue'
import EventsView from './views/EventsView.vue'
import EventView from './views/EventView.vue'
import DirectoryView from './views/DirectoryView.vue'
import PortalView from './views/PortalView.vue'
import RoutingView from './views/RoutingView.vue'
import FeedsView from './views/FeedsView.vue'
import AnswerView from './views/AnswerView.vue'

// The dashboard brings ECharts and the world's shapes (1.4 MB of script):
// its own chunks, loaded beside the session check rather than before it
export const DashboardView = () => import('./views/DashboardView.vue')

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: LoginView, meta: { public: true } },
    { path: '/', name: 'dashboard', component: DashboardView, meta: { own: true } },
    { path: '/incidents', name: 'incidents', component: IncidentsView },
    { path: '/incidents/:id(\\d+)', name: 'incident', component: IncidentView, props: true },
    { path: '/events', name: 'events', component: EventsView },
    { path: '/events/:id(\\d+)', name: 'event', component: EventView, props: true },
    { path: '/directory', name: 'directory', component: DirectoryView },
    { path: '/routing', name: 'routing', component: RoutingView, meta: { own: true } },
    { path: '/feeds', name: 'feeds', component: FeedsView, meta: { own: true } },
    { path: '/portal', name: 'portal', component: PortalView },
    // a digest's signed answer link (the server sends /answer/... here)
    { path: '/answer/:path(.*)', name: 'answer', component: AnswerView, props: true, meta: { anyone: true } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

// Which page to show is the browser's choice; what is in it, the server's.
router.beforeEach(async (to) => {
  if (!session.checked) await loadSession()
  if (to.meta.anyone) return true
  if (to.meta.public) return session.who ? { name: session.who.org_kind === 'own' ? 'dashboard' : 'portal' } : true
  if (!session.who) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.own && session.who.org_kind !== 'own') return { name: 'portal' }
  return true
})

router.onError((e) => console.error('navigation failed:', e))
