// SPDX-License-Identifier: AGPL-3.0-or-later
// The world map's country shapes: world-atlas at the 50m scale (Natural
// Earth; the 110m file lacks Singapore, Hong Kong, Bahrain, Malta and the
// Maldives). Its features carry ISO 3166-1 numeric ids; events carry
// alpha-2 codes, so every feature is renamed to its alpha-2 code, which is
// the key ECharts matches the data on. Features without an id: Kosovo is
// XK (the code CERTs and the geolocation databases use), Somaliland is
// shaded as SO and Northern Cyprus as CY (their ISO countries); the Indian
// Ocean Territories and the Siachen Glacier have no country of their own
// and stay unshaded.
import { feature } from 'topojson-client'
import type { Topology, GeometryCollection } from 'topojson-specification'
import type { FeatureCollection, Geometry } from 'geojson'
import countries from 'i18n-iso-countries'
import en from 'i18n-iso-countries/langs/en.json'
import zh from 'i18n-iso-countries/langs/zh.json'
import atlas from 'world-atlas/countries-50m.json'

countries.registerLocale(en)
countries.registerLocale(zh)

const noId: Record<string, string> = { Kosovo: 'XK', Somaliland: 'SO', 'N. Cyprus': 'CY' }

export function countryName(code: string, lang: string): string {
  if (code === 'XK') return lang === 'zh' ? '科索沃' : 'Kosovo'
  return countries.getName(code, lang === 'zh' ? 'zh' : 'en') || code
}

export function alpha2Of(numericId: string | undefined, name: string): string | null {
  if (numericId) return countries.numericToAlpha2(numericId) || null
  return noId[name] || null
}

// world-atlas stitches the shapes that cross the antimeridian (Russia's
// Chukotka, Fiji, the Aleutians): a ring there jumps from 180 to -180
// degrees. ECharts draws in the plane, so such a ring became a band across
// the whole map. Each ring is made continuous instead (a point more than
// 180 degrees from the last is moved by 360), then moved back by 360 if
// its middle is off the map: Chukotka is drawn past 180 degrees, beside
// the rest of Russia.
type Ring = number[][]
function continuous(ring: Ring): Ring {
  let shift = 0
  let prev = ring.length ? ring[0][0] : 0
  let lo = Infinity
  let hi = -Infinity
  const out = ring.map(([x, y]) => {
    let nx = x + shift
    if (nx - prev > 180) {
      shift -= 360
      nx -= 360
    } else if (nx - prev < -180) {
      shift += 360
      nx += 360
    }
    prev = nx
    lo = Math.min(lo, nx)
    hi = Math.max(hi, nx)
    return [nx, y]
  })
  const mid = (lo + hi) / 2
  const back = mid > 180 ? -360 : mid < -180 ? 360 : 0
  return back ? out.map(([x, y]) => [x + back, y]) : out
}
function onThePlane(g: Geometry): Geometry {
  if (g.type === 'Polygon') return { ...g, coordinates: g.coordinates.map(continuous) }
  if (g.type === 'MultiPolygon') return { ...g, coordinates: g.coordinates.map((p) => p.map(continuous)) }
  return g
}

let cache: FeatureCollection<Geometry, { name: string; label: string }> | null = null

export function worldGeo(): FeatureCollection<Geometry, { name: string; label: string }> {
  if (cache) return cache
  const topo = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>
  const fc = feature(topo, topo.objects.countries) as unknown as FeatureCollection<Geometry, { name: string }>
  cache = {
    type: 'FeatureCollection',
    // Antarctica (010) is left out: no events, and its ring along the edge draws a line
    features: fc.features.filter((f) => String(f.id) !== '010').map((f, i) => {
      const code = alpha2Of(f.id === undefined ? undefined : String(f.id), f.properties.name)
      // ECharts keys regions by name: a unique placeholder for the unshaded ones
      return { ...f, geometry: onThePlane(f.geometry), properties: { name: code || `-${i}`, label: f.properties.name } }
    }),
  }
  return cache
}
