// SPDX-License-Identifier: AGPL-3.0-or-later
// Apache ECharts, only the parts the console draws with; canvas on screen
// (PNG export), SVG for the SVG export.
import * as echarts from 'echarts/core'
import { BarChart, LineChart, MapChart, PieChart } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  TitleComponent,
  AriaComponent,
} from 'echarts/components'
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers'
import { worldGeo } from './geo'

echarts.use([
  BarChart,
  LineChart,
  MapChart,
  PieChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  TitleComponent,
  AriaComponent,
  CanvasRenderer,
  SVGRenderer,
])

let registered = false
export function ensureWorld(): void {
  if (registered) return
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  echarts.registerMap('world', worldGeo() as any)
  registered = true
}

export { echarts }
