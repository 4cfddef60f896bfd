#!/usr/bin/python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Validate the REST API's OpenAPI document and answers the server gave.

validate_openapi.py META DOC [SCHEMA=FILE ...]

META is the OpenAPI 3.1 meta-schema (tests/data/openapi/schema.json), DOC the
document the server served. Checks, in order: DOC against META (draft
2020-12); every Schema Object under components/schemas against JSON Schema
2020-12's meta-schema (META does not look inside them); every `$ref` of DOC
resolves; each FILE (an answer of the server) against
#/components/schemas/SCHEMA of DOC. Prints every problem found with its
place and exits 1 if there was one."""
import json
import sys

import jsonschema
from jsonschema import Draft202012Validator


def refs(node, path='#'):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == '$ref' and isinstance(v, str):
                yield path, v
            else:
                yield from refs(v, path + '/' + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from refs(v, '%s/%d' % (path, i))


def resolve(doc, ref):
    if not ref.startswith('#/'):
        return False
    node = doc
    for part in ref[2:].split('/'):
        part = part.replace('~1', '/').replace('~0', '~')
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    meta = json.load(open(sys.argv[1]))
    doc = json.load(open(sys.argv[2]))
    bad = 0
    for e in sorted(Draft202012Validator(meta).iter_errors(doc), key=lambda e: list(e.path)):
        print('openapi: %s: %s' % ('/'.join(str(p) for p in e.path) or '(document)', e.message))
        bad += 1
    for name, schema in doc.get('components', {}).get('schemas', {}).items():
        for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema):
            print('openapi: components/schemas/%s: not a JSON Schema: %s' % (name, e.message))
            bad += 1
    for where, ref in refs(doc):
        if not resolve(doc, ref):
            print('openapi: %s: $ref %s resolves to nothing' % (where, ref))
            bad += 1
    for arg in sys.argv[3:]:
        name, _, path = arg.partition('=')
        answer = json.load(open(path))
        schema = {'$ref': '#/components/schemas/' + name, 'components': doc['components']}
        v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for e in v.iter_errors(answer):
            print('answer %s (%s): %s: %s' % (path, name, '/'.join(str(p) for p in e.path) or '(root)',
                                              e.message))
            bad += 1
    print('openapi: %s: %d problem(s); jsonschema %s' % (sys.argv[2], bad, getattr(jsonschema, '__version__', '?')))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
