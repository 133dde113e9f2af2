#!/usr/bin/python3
"""nir_mutate.py SRC DST MODE — a copy of the NIR file SRC (as rcsim
export-nir writes it) with one change, for tests/test_nir.c's error cases:
  cubalif  fc1_lif becomes a CubaLIF (tau_syn, tau_mem, w_in added)
  li       an LI node 'li' is inserted between fc1_lif and fc2
  branch   an extra edge conv1_lif -> fc2 (not a chain)
  shape    fc1's weight loses one input column
  tau      one neuron of conv2_lif gets twice the tau of the others
  nometa   /node/metadata removed (a foreign file: NIR's defaults apply)
  unknown  fc1_lif's type becomes 'Mystery'
  sumpool  every AvgPool2d becomes SumPool2d followed by a Scale of 0.25
           (the same network)"""
import shutil
import sys

import h5py
import numpy as np

src, dst, mode = sys.argv[1:4]
shutil.copyfile(src, dst)
f = h5py.File(dst, "r+")
node, nodes = f["node"], f["node/nodes"]
edges = [(a.decode(), b.decode()) for a, b in node["edges"][()]]


def set_edges(e):
    del node["edges"]
    node.create_dataset("edges", data=np.array(e, dtype=object), dtype=h5py.string_dtype())


def set_type(g, t):
    del g["type"]
    g.create_dataset("type", data=t, dtype=h5py.string_dtype())


if mode == "cubalif":
    g = nodes["fc1_lif"]
    set_type(g, "CubaLIF")
    g["tau_mem"] = g["tau"][()]
    g["tau_syn"] = g["tau"][()] * 2
    g["w_in"] = np.ones_like(g["tau"][()])
elif mode == "unknown":
    set_type(nodes["fc1_lif"], "Mystery")
elif mode == "li":
    g = nodes.create_group("li")
    g.create_dataset("type", data="LI", dtype=h5py.string_dtype())
    n = nodes["fc1_lif/tau"].shape
    g["tau"], g["r"], g["v_leak"] = np.ones(n), np.ones(n), np.zeros(n)
    i = edges.index(("fc1_lif", "fc2"))
    set_edges(edges[:i] + [("fc1_lif", "li"), ("li", "fc2")] + edges[i + 1:])
elif mode == "branch":
    set_edges(edges + [("conv1_lif", "fc2")])
elif mode == "shape":
    w = nodes["fc1/weight"][()]
    del nodes["fc1/weight"]
    nodes["fc1"]["weight"] = w[:, :-1]
elif mode == "tau":
    t = nodes["conv2_lif/tau"][()]
    t[0, 0, 0] *= 2
    nodes["conv2_lif/tau"][...] = t
elif mode == "sumpool":
    for name in [n for n in nodes if nodes[n]["type"][()] in (b"AvgPool2d", "AvgPool2d")]:
        set_type(nodes[name], "SumPool2d")
        prev = [a for a, b in edges if b == name][0]
        g = nodes.create_group(name + "_scale")
        g.create_dataset("type", data="Scale", dtype=h5py.string_dtype())
        g["scale"] = np.full(nodes[prev]["tau"].shape[0], 0.25)
        i = [a for a, _ in edges].index(name)
        edges = edges[:i] + [(name, name + "_scale"), (name + "_scale", edges[i][1])] + edges[i + 1:]
    set_edges(edges)
elif mode == "nometa":
    del node["metadata"]
else:
    sys.exit("nir_mutate: unknown mode " + mode)
f.close()
