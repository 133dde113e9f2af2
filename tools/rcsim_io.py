"""rcsim_io — read rcsim's model.h5 and traces.h5 with numpy and h5py only.

    import sys; sys.path.insert(0, "tools")
    import rcsim_io
    params, cfg = rcsim_io.load_model("runs/x/model.h5")
    params["lstm/w_ih"].shape           # (4H, I), gate order i,f,g,o
    cfg["model.hidden"]                 # '340' (values are the config's text)
    t, ids, ex = rcsim_io.load_spikes("runs/x/traces.h5", "output")
    st, units, ex, dh = rcsim_io.load_events("runs/x/traces.h5")  # delta LSTM
    acts, ex = rcsim_io.load_activations("runs/x/traces.h5", "output")
    rc = rcsim_io.load_predictions("runs/x/traces.h5")   # per test example

Layouts (README "Outputs", model.h5 /params): every tensor is in PyTorch's
layout (nn.LSTM, nn.Conv2d, nn.Linear); each dataset's `layout` attribute
says what its axes are (load_model_attrs).
"""
import h5py
import numpy as np

__all__ = ["load_model", "load_model_attrs", "load_config", "parse_config", "load_spikes", "load_events",
           "load_activations", "load_predictions", "latency_events"]


def _text(v):
    """An HDF5 string attribute (bytes or str) as str."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        return _text(v[()])
    return v


def parse_config(text):
    """INI text of an rcsim config -> dict 'section.key' -> value text
    (comments and blank lines dropped; values are not converted)."""
    out, sec = {}, ""
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("[") and "]" in s:
            sec = s[1:s.index("]")].strip()
            continue
        if "=" in s:
            k, v = s.split("=", 1)
            out[f"{sec}.{k.strip()}" if sec else k.strip()] = v.strip()
    return out


def load_config(path):
    """The config text an rcsim file carries: model.h5's /strings/config or
    traces.h5's root attribute `config`."""
    with h5py.File(path, "r") as f:
        if "strings" in f and "config" in f["strings"].attrs:
            return _text(f["strings"].attrs["config"])
        return _text(f.attrs["config"])


def load_model(path, flat=False):
    """Reads model.h5: returns (params, cfg).

    params: dict name -> float32 numpy array, one entry per dataset under
    /params ("lstm/w_ih", "lstm/w_hh", "lstm/b_ih", "lstm/b_hh",
    "convlstm/w_x", ..., "head1/weight", "output/weight", "output/bias";
    SNN "snn/conv1/weight", "snn/fc1/weight", "snn/output/bias", ...), the
    kept model (the one the run tested and `rcsim eval` loads), in PyTorch's
    layouts. flat=True adds the checkpoint's flat vectors as
    "tensors/params", "tensors/kept_params", ... (rcsim's internal order).
    cfg: the stored config as a dict 'section.key' -> value text
    (parse_config); the raw text is load_config(path).
    A checkpoint written before /params existed raises ValueError.
    """
    params = {}
    with h5py.File(path, "r") as f:
        if "params" not in f:
            raise ValueError(f"{path}: no /params group (a checkpoint from an rcsim before named tensors; "
                             "only the flat /tensors are there)")

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                params[name] = obj[()]
        f["params"].visititems(visit)
        if flat:
            for k, d in f["tensors"].items():
                params["tensors/" + k] = d[()]
        cfg = parse_config(_text(f["strings"].attrs["config"]))
    return params, cfg


def load_model_attrs(path):
    """Attributes of model.h5's /params: dict name -> dict of attributes
    (strings decoded), for every dataset and group under /params ("" is
    /params itself; "snn" holds v_th, tau, reset, bias of the LIF neurons;
    tensors carry layout, gate_order, padding, flat_offset, ...)."""
    out = {}
    with h5py.File(path, "r") as f:
        g = f["params"]
        out[""] = {k: _text(v) for k, v in g.attrs.items()}

        def visit(name, obj):
            out[name] = {k: _text(v) for k, v in obj.attrs.items()}
        g.visititems(visit)
    return out


def load_spikes(path, population="output", steps=False):
    """Spikes of one population of traces.h5 (/spikes/<population>): returns
    (times, ids, example_ids) as numpy arrays, times in ms as stored (example
    i occupies [i*T*dt, (i+1)*T*dt)), ids the node ids (output: the class;
    SNN hidden layers: (y*W + x)*C + c), example_ids the test example of
    each spike. steps=True returns each spike's 0-based step within its
    example instead of the time."""
    with h5py.File(path, "r") as f:
        if "spikes" not in f or population not in f["spikes"]:
            have = sorted(f["spikes"].keys()) if "spikes" in f else []
            raise KeyError(f"{path}: no population '{population}' under /spikes (has: {', '.join(have) or 'none'})")
        g = f["spikes"][population]
        t = g["timestamps"][()]
        ids = g["node_ids"][()]
        ex = g["example_ids"][()]
        if steps:
            dt = float(f.attrs["dt_ms"])
            T = int(f["rc"].attrs["T"])
            t = np.rint(t / dt).astype(np.int64) - ex.astype(np.int64) * T
    return t, ids, ex


def load_events(path, population="hidden_events"):
    """Events of an event population of traces.h5 (a delta LSTM's
    /spikes/hidden_events: the hidden delta events of the traced examples):
    returns (steps, units, example_ids, values) as numpy arrays, steps
    0-based within each example (an event at step t carries h_{t-1} - h_sent,
    the change the unit sent to step t's gates), units the hidden unit, values
    float32."""
    steps, units, ex = load_spikes(path, population, steps=True)
    with h5py.File(path, "r") as f:
        g = f["spikes"][population]
        if "values" not in g:
            raise KeyError(f"{path}: /spikes/{population} has no values (a spike population, not an event one)")
        values = g["values"][()]
    return steps, units, ex, values


def load_activations(path, layer=None):
    """Recorded activations of traces.h5 (/activations, for the examples of
    output.trace_examples): layer "lstm" (LSTM/ConvLSTM hidden state h),
    "hidden" (SNN: pre-reset membrane potentials of the layer before the
    output), "output" (the softmax probabilities; SNN: softmax of the output
    potentials). Returns (array [examples, T, units] float32, example_ids);
    steps not computed are NaN. layer=None returns a dict layer -> (array,
    example_ids) of every recorded layer."""
    with h5py.File(path, "r") as f:
        g = f["activations"]
        names = [k for k in g.keys() if not k.endswith("_example_ids")]
        if layer is None:
            return {k: (g[k][()], g[k + "_example_ids"][()]) for k in names}
        if layer not in g:
            raise KeyError(f"{path}: no activations '{layer}' (has: {', '.join(sorted(names)) or 'none'})")
        return g[layer][()], g[layer + "_example_ids"][()]


def load_predictions(path):
    """Per test example outcome of traces.h5's /rc: dict of arrays
    example_ids, label, pred (the class of the first spike, or the answer at
    the last step without one), spiked (0/1), t_sp (1-based step of the
    first spike; T without one), and the attributes threshold, beta, mode,
    T."""
    with h5py.File(path, "r") as f:
        g = f["rc"]
        out = {k: g[k][()] for k in ("example_ids", "label", "pred", "spiked", "t_sp")}
        out.update({k: _text(v) for k, v in g.attrs.items()})
    return out


def latency_events(img, T, zero_last=False):
    """rcsim's latency code (encoder.type = latency) of one image (uint8
    array, any shape, read row-major): a [T, pixels] array of input values,
    1 where a pixel spikes: pixel value v > 0 at step ((255 - v)*T)//255
    (clipped to T-1); v = 0 never, or at T-1 with zero_last."""
    v = np.asarray(img, dtype=np.int64).ravel()
    x = np.zeros((T, v.size), dtype=np.float32)
    t = np.minimum(((255 - v) * T) // 255, T - 1)
    on = v > 0
    x[t[on], np.nonzero(on)[0]] = 1.0
    if zero_last:
        x[T - 1, ~on] = 1.0
    return x
