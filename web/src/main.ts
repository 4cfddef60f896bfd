// SPDX-License-Identifier: AGPL-3.0-or-later
import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import './style.css'

document.documentElement.lang = i18n.global.locale.value === 'zh' ? 'zh-CN' : 'en'
createApp(App).use(i18n).use(router).mount('#app')
