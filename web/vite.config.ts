// SPDX-License-Identifier: AGPL-3.0-or-later
// The console is served by `liaison serve` under /console (src/console/console.c):
// hashed files under assets/ (cached for good), index.html for every other path.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    // no inline scripts or module preload polyfill: the CSP allows scripts from 'self' only
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        manualChunks: {
          echarts: ['echarts/core', 'echarts/charts', 'echarts/components', 'echarts/renderers'],
          geo: ['world-atlas/countries-50m.json'],
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8443', '/console/login': 'http://127.0.0.1:8443' } },
})
