#!/usr/bin/python3
"""check_nir.py FILE LAYERS C,H,W — reads a NIR file written by `rcsim
export-nir` with h5py alone (no nir package) and checks it against the NIR
layout (neuromorphs/NIR nir/serialization.py): /version, /node/type =
NIRGraph, /node/nodes/<name>/type, parameters as datasets of the expected
shapes (fc: Affine with model.bias, else Linear), /node/edges as (E, 2) pairs of node names forming the chain
input -> ... -> output, the LIF convention tau = dt/(1 - beta), r = tau/dt,
v_leak = v_reset = 0, and the metadata. Exit 0 if all hold, 1 with the
first failure printed."""
import sys

import h5py
import numpy as np


def s(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def fail(msg):
    print("check_nir: " + msg)
    sys.exit(1)


def expected_chain(layers, bias, c, h, w):
    """(name, type, {param: shape}) of every node, in chain order."""
    out = [("input", "Input", {"shape": (3,)})]
    nconv = nfc = npool = 0
    flat = False
    for tok in layers.split():
        if tok.startswith("conv"):
            co, rest = tok[4:].split("k")
            k, p = (int(x) for x in rest.split("p"))
            co = int(co)
            nconv += 1
            nm = "conv%d" % nconv
            out.append((nm, "Conv2d", {"weight": (co, c, k, k), "bias": (co,), "stride": (2,), "padding": (2,),
                                       "dilation": (2,), "groups": (), "input_shape": (2,)}))
            h, w, c = h + 2 * p - k + 1, w + 2 * p - k + 1, co
            out.append((nm + "_lif", "LIF", {x: (c, h, w) for x in ("tau", "r", "v_leak", "v_threshold", "v_reset")}))
        elif tok == "pool2":
            npool += 1
            out.append(("pool%d" % npool, "AvgPool2d", {"kernel_size": (2,), "stride": (2,), "padding": (2,)}))
            h, w = h // 2, w // 2
        else:
            n = int(tok[2:])
            if not flat:
                out.append(("flatten", "Flatten", {"start_dim": (), "end_dim": (), "input_type": (3,)}))
                flat, c, h, w = True, c * h * w, 1, 1
            nfc += 1
            nm = "fc%d" % nfc
            out.append((nm, "Affine", {"weight": (n, c), "bias": (n,)}) if bias else (nm, "Linear", {"weight": (n, c)}))
            out.append((nm + "_lif", "LIF", {x: (n,) for x in ("tau", "r", "v_leak", "v_threshold", "v_reset")}))
            c = n
    out.append(("output", "Output", {"shape": (1,)}))
    return out


def main():
    path, layers, shape = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
    f = h5py.File(path, "r")
    if "version" not in f or not s(f["version"][()]).count("."):
        fail("no /version string")
    node = f["node"]
    if s(node["type"][()]) != "NIRGraph":
        fail("/node/type is %r, expected NIRGraph" % node["type"][()])
    nodes = node["nodes"]
    chain = expected_chain(layers, int(node["metadata"]["rcsim_bias"][()]), *shape)
    if sorted(nodes.keys()) != sorted(n for n, _, _ in chain):
        fail("nodes %s, expected %s" % (sorted(nodes.keys()), sorted(n for n, _, _ in chain)))
    for name, typ, params in chain:
        g = nodes[name]
        if s(g["type"][()]) != typ:
            fail("%s/type is %r, expected %s" % (name, g["type"][()], typ))
        for p, shp in params.items():
            if p not in g:
                fail("%s has no %s" % (name, p))
            if g[p].shape != shp:
                fail("%s/%s has shape %s, expected %s" % (name, p, g[p].shape, shp))
    e = node["edges"][()]
    if e.shape != (len(chain) - 1, 2):
        fail("edges of shape %s, expected %s" % (e.shape, (len(chain) - 1, 2)))
    pairs = [(s(a), s(b)) for a, b in e]
    want = [(chain[i][0], chain[i + 1][0]) for i in range(len(chain) - 1)]
    if pairs != want:
        fail("edges %s, expected %s" % (pairs, want))
    if list(nodes["input"]["shape"][()]) != shape:
        fail("input shape %s, expected %s" % (list(nodes["input"]["shape"][()]), shape))
    m = node["metadata"]
    dt, beta = float(m["dt"][()]), float(m["rcsim_beta"][()])
    if dt != 1e-4:
        fail("metadata dt = %g, expected 1e-4" % dt)
    for name, typ, _ in chain:
        if typ != "LIF":
            continue
        g = nodes[name]
        tau = g["tau"][()]
        if not np.allclose(tau, dt / (1 - beta), rtol=1e-12, atol=0):
            fail("%s tau %s, expected dt/(1-beta) = %g" % (name, tau.flat[0], dt / (1 - beta)))
        if not np.allclose(g["r"][()], tau / dt, rtol=1e-12, atol=0):
            fail("%s r != tau/dt" % name)
        if np.any(g["v_leak"][()] != 0) or np.any(g["v_reset"][()] != 0):
            fail("%s v_leak or v_reset not 0" % name)
    if s(m["reset_mode"][()]) not in ("zero", "subtract"):
        fail("metadata reset_mode %r" % m["reset_mode"][()])
    print("check_nir: %s: %d nodes, %d edges as expected" % (path, len(chain), len(pairs)))


main()
