// SPDX-License-Identifier: AGPL-3.0-or-later
// The reference CSAF 2.0 validator (BSI's @secvisogram/csaf-validator-lib) on
// each document named on the command line: the strict schema test, every
// mandatory test (6.1) and every optional test (6.2). A mandatory or schema
// error fails; so does an optional test's warning, unless its name is in
// --allow NAME,NAME (a test that does not apply, said in docs/advisories.md).
// Exit 0 when all pass, 1 otherwise, 77 when the library is not installed.
import { readFileSync } from 'node:fs'

let lib
try {
  lib = {
    validateStrict: (await import('@secvisogram/csaf-validator-lib/validateStrict.js')).default,
    schema: await import('@secvisogram/csaf-validator-lib/schemaTests.js'),
    mandatory: await import('@secvisogram/csaf-validator-lib/mandatoryTests.js'),
    optional: await import('@secvisogram/csaf-validator-lib/optionalTests.js'),
  }
} catch (e) {
  console.log(`skip: @secvisogram/csaf-validator-lib is not installed (npm ci in tests/csaf): ${e.message}`)
  process.exit(77)
}

const args = process.argv.slice(2)
let allow = new Set()
const files = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--allow') allow = new Set(args[++i].split(',').filter(Boolean))
  else files.push(args[i])
}
const tests = [lib.schema.csaf_2_0_strict, ...Object.values(lib.mandatory), ...Object.values(lib.optional)]
const optionalNames = new Set(Object.values(lib.optional).map((t) => t.name))
let failed = 0
for (const f of files) {
  const doc = JSON.parse(readFileSync(f, 'utf8'))
  const res = await lib.validateStrict(tests, doc)
  let bad = 0
  for (const t of res.tests) {
    const isOptional = optionalNames.has(t.name)
    const problems = isOptional ? [...t.errors, ...t.warnings] : t.errors
    if (!problems.length) continue
    if (isOptional && allow.has(t.name)) {
      console.log(`note ${f}: ${t.name} (allowed): ${problems.map((p) => `${p.instancePath} ${p.message}`).join('; ')}`)
      continue
    }
    bad++
    for (const p of problems) console.log(`FAIL ${f}: ${t.name}: ${p.instancePath}: ${p.message}`)
  }
  console.log(`${bad ? 'FAIL' : 'ok  '} ${f}: ${res.tests.length} tests (schema, ${Object.keys(lib.mandatory).length} mandatory, ${Object.keys(lib.optional).length} optional)`)
  if (bad) failed++
}
process.exit(failed ? 1 : 0)
