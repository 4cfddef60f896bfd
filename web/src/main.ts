// SPDX-License-Identifier: AGPL-3.0-or-later
import { createApp } from 'vue'
import App from './App.vue'
import { router, DashboardView } from './router'
import { DASHBOARD_DAYS, dashboardPath, loadSession, prefetch, session } from './api'
import { i18n } from './i18n'
import './style.css'

document.documentElement.lang = i18n.global.locale.value === 'zh' ? 'zh-CN' : 'en'
// on the dashboard's address its chunks load while the session is checked,
// and its data as soon as the session is one of our own team's
if (/^\/console\/?$/.test(location.pathname)) {
  void DashboardView()
  void loadSession().then(() => {
    if (session.who?.org_kind === 'own') prefetch(dashboardPath(DASHBOARD_DAYS))
  })
}
createApp(App).use(i18n).use(router).mount('#app')
