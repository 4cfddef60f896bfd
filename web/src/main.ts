// SPDX-License-Identifier: AGPL-3.0-or-later
import { createApp } from 'vue'
import App from './App.vue'
import { router, DashboardView } from './router'
import { loadSession, prefetch, session } from './api'
import { i18n } from './i18n'
import './style.css'

document.documentElement.lang = i18n.global.locale.value === 'zh' ? 'zh-CN' : 'en'
// on the dashboard's address its chunks load while the session is checked,
// and its data as soon as the session is one of our own team's
// (DashboardView asks for the same path)
const dashboardData = '/console/data/summary?days=30&top=10'
if (/^\/console\/?$/.test(location.pathname)) {
  void DashboardView()
  void loadSession().then(() => {
    if (session.who?.org_kind === 'own') prefetch(dashboardData)
  })
}
createApp(App).use(i18n).use(router).mount('#app')
