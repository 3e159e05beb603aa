#!/usr/bin/env python3
"""Regenerates the table of src/TrtMLNet/Onnx/ReducedTypeSupport.cs from ONNX's docs/Changelog.md.

Usage: python3 tools/onnx_type_support.py path/to/onnx/docs/Changelog.md > rows.txt

For every default-domain op version, each input whose type accepts tensor(float) but not tensor(float16)
(resp. tensor(bfloat16)) is either independent (a fixed type, or a constraint no other port uses: it can
stay float32 while the node converts) or shares its constraint with other ports (the node must stay
float32: "b"). Outputs follow their inputs or an attribute (stash_type), so they do not decide.
Rows list "version:float16/bfloat16" from that version on; ops that take both types everywhere are left out.
"""
import re, sys, collections
text = open(sys.argv[1]).read()
sections = re.split(r'\n### <a name="([^"]+)"></a>', text)
ops = collections.defaultdict(dict)
def ports(block):
    res = []
    for m in re.finditer(r'<dt><tt>([^<]+)</tt>\s*(\(([^)]*)\))?\s*:\s*([^<]+)</dt>', block):
        name, flags, typ = m.group(1), m.group(3) or '', m.group(4).strip()
        res.append((name, 'variadic' in flags, typ))
    return res
for i in range(1, len(sections), 2):
    name = sections[i]; body = sections[i+1]
    m = re.match(r'(.+)-(\d+)$', name)
    if not m: continue
    op, ver = m.group(1), int(m.group(2))
    if '.' in op: continue  # other domains (ai.onnx.ml., ai.onnx.preview.training.)
    def sect(title):
        mm = re.search(r'#### ' + title + r'[^\n]*\n+<dl>(.*?)</dl>', body, re.S)
        return mm.group(1) if mm else ''
    ins = ports(sect('Inputs')); outs = ports(sect('Outputs'))
    cons = {}
    for mm in re.finditer(r'<dt><tt>([^<]+)</tt>\s*:\s*([^<]+)</dt>', sect('Type Constraints')):
        cons[mm.group(1)] = [t.strip() for t in mm.group(2).split(', ')]
    ops[op][ver] = (ins, outs, cons)

def allowed(typ, cons):
    if typ in cons: return set(cons[typ])
    return set(t.strip() for t in typ.split(' or ')) if ' or ' in typ else {typ}

def verdict(ins, outs, cons, target):
    allports = [('i', k, v, t) for k, (n, v, t) in enumerate(ins)] + [('o', k, v, t) for k, (n, v, t) in enumerate(outs)]
    usage = collections.Counter(t for _, _, _, t in allports if t in cons)
    keep = []
    for kind, k, var, t in allports:
        a = allowed(t, cons)
        if 'tensor(float)' in a and target not in a:
            independent = (t not in cons or usage[t] == 1) and not var
            if kind == 'o': continue  # an output's type follows its inputs or an attribute (stash_type); the inputs decide
            if not independent: return 'b'
            keep.append(str(k))
    return ','.join(keep)

rows = []
for op in sorted(ops):
    vs = sorted(ops[op])
    entries = []
    for v in vs:
        ins, outs, cons = ops[op][v]
        entries.append((v, verdict(ins, outs, cons, 'tensor(float16)'), verdict(ins, outs, cons, 'tensor(bfloat16)')))
    if all(e[1] == '' and e[2] == '' for e in entries): continue
    # merge consecutive identical verdicts
    merged = []
    for e in entries:
        if merged and merged[-1][1:] == e[1:]: continue
        merged.append(e)
    rows.append((op, ' '.join(f'{v}:{a}/{b}' for v, a, b in merged)))
for op, s in rows: print(f'        ["{op}"] = "{s}",')
print(len(rows), file=sys.stderr)
