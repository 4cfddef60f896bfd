#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Lint of the module seams (issue 9), run by scripts/lint.sh:
1. every function of the public API (include/liaison/*.h) has a comment: one
   above it, or above the group of declarations it belongs to (no blank line
   between them), or at the end of its line;
2. a module writes only the tables it creates: an INSERT/UPDATE/DELETE/REPLACE
   in src/MODULE/ names a table whose CREATE TABLE is in src/MODULE/ (another
   module's data goes through that module's functions).
Exit 1 with one line per finding (file:line: what), else 0."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else '.'
bad = []

PROTO = re.compile(r'^[A-Za-z_][\w \t\*]*?\b(lia_\w+)\s*\(')


def documented(lines, i):
    if '/*' in lines[i] or '//' in lines[i]:
        return True
    j = i - 1
    while j >= 0:
        t = lines[j].strip()
        if not t:
            return False
        if t.endswith('*/'):
            return True
        if t.startswith('#'):
            return False
        j -= 1
    return False


inc = os.path.join(root, 'include', 'liaison')
for name in sorted(os.listdir(inc)):
    if not name.endswith('.h'):
        continue
    path = os.path.join(inc, name)
    lines = open(path, encoding='utf-8').read().split('\n')
    depth = 0
    in_comment = False
    for i, line in enumerate(lines):
        code = line
        if in_comment:
            if '*/' not in line:
                continue
            code = line.split('*/', 1)[1]
            in_comment = False
        code = re.sub(r'/\*.*?\*/', '', code)
        if '/*' in code:
            code = code.split('/*', 1)[0]
            in_comment = True
        if depth == 0 and not code.startswith((' ', '\t', '#', 'typedef')):
            m = PROTO.match(code)
            if m and not documented(lines, i):
                bad.append(f'include/liaison/{name}:{i + 1}: {m.group(1)} has no comment')
        depth += code.count('{') - code.count('}')

WRITE = re.compile(r'\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+(\w+)')
CREATE = re.compile(r'\bCREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)')
owner = {}
writes = []
src = os.path.join(root, 'src')
for dirpath, _, files in os.walk(src):
    for f in sorted(files):
        if not f.endswith('.c'):
            continue
        path = os.path.join(dirpath, f)
        mod = os.path.relpath(path, src).split(os.sep)[0]
        text = open(path, encoding='utf-8').read()
        for m in CREATE.finditer(text):
            owner.setdefault(m.group(1), set()).add(mod)
        for m in WRITE.finditer(text):
            if m.group(1) in ('SET', 'OF'):  # DO UPDATE SET, FOR UPDATE OF
                continue
            writes.append((os.path.relpath(path, root), text.count('\n', 0, m.start()) + 1, mod, m.group(1)))
for path, line, mod, table in writes:
    own = owner.get(table)
    if own is not None and mod not in own:
        bad.append(f'{path}:{line}: module {mod} writes table {table} of {"/".join(sorted(own))}')

for b in bad:
    print('lint:', b)
sys.exit(1 if bad else 0)
