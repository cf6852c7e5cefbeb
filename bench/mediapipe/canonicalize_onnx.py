"""Make tf2onnx output byte-reproducible: tf2onnx names folded constants (const_fold_opt__N) and
orders them nondeterministically. Rename every initializer after its first use (node index, input
slot), order initializers by that name, and rename intermediate tensors the same way. Semantics unchanged.
Also replaces the graph doc_string (tf2onnx writes the input path there) and records provenance.
Usage: python canonicalize_onnx.py IN.onnx OUT.onnx [key=value ...]   (key=value pairs go to metadata_props)"""
import sys

import onnx

m = onnx.load(sys.argv[1])
g = m.graph
inits = {i.name for i in g.initializer}
keep = {i.name for i in g.input} | {o.name for o in g.output}
ren = {}
for ni, n in enumerate(g.node):
    for si, x in enumerate(n.input):
        if x in inits and x not in ren:
            ren[x] = f"w{ni:04d}_{si}"
    for so, y in enumerate(n.output):
        if y not in keep and y not in ren:
            ren[y] = f"t{ni:04d}_{so}"
    n.name = f"n{ni:04d}_{n.op_type}"
for n in g.node:
    n.input[:] = [ren.get(x, x) for x in n.input]
    n.output[:] = [ren.get(y, y) for y in n.output]
new_inits = sorted(g.initializer, key=lambda i: ren.get(i.name, i.name))
for i in new_inits:
    i.name = ren.get(i.name, i.name)
del g.initializer[:]
g.initializer.extend(new_inits)
vi = [v for v in g.value_info]
for v in vi:
    v.name = ren.get(v.name, v.name)
del g.value_info[:]
g.value_info.extend(sorted(vi, key=lambda v: v.name))
g.doc_string = ""
del m.metadata_props[:]
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    onnx.helper.set_model_props(m, {**{p.key: p.value for p in m.metadata_props}, k: v})
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
