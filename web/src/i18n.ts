// SPDX-License-Identifier: AGPL-3.0-or-later
// Every string of the interface comes from these catalogues (vue-i18n).
// The catalogues have the same keys; tests/browser checks it.
import { createI18n } from 'vue-i18n'
import en from './locales/en.json'
import zh from './locales/zh.json'

export type Lang = 'en' | 'zh'

function initial(): Lang {
  const s = localStorage.getItem('liaison.lang')
  if (s === 'en' || s === 'zh') return s
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en'
}

export const i18n = createI18n({ legacy: false, locale: initial(), fallbackLocale: 'en', messages: { en, zh } })

export function setLang(l: Lang): void {
  i18n.global.locale.value = l
  localStorage.setItem('liaison.lang', l)
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en'
}
