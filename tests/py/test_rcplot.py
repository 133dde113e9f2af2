#!/usr/bin/python3
"""test_rcplot.py — traces.h5 read through h5py, and tools/rcplot.py run
headless (MPLBACKEND=Agg) on tiny run folders that the rcsim binary writes
(a spiking net on generated temporal-MNIST IDX files, its eval in RUN/eval,
and an LSTM spotting run).

    /usr/bin/python3 tests/py/test_rcplot.py      (from the repository root)

The binary is $RCSIM (default ./rcsim). Exits 77 (skipped) with a message
when h5py or matplotlib is missing. Run by tests/test_traces_snn.c."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

try:
    import h5py
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.colors as mcolors
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"test_rcplot: skipped: {e} (make plot-deps installs them)")
    sys.exit(77)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RCPLOT = os.path.join(ROOT, "tools", "rcplot.py")
RCSIM = os.path.abspath(os.environ.get("RCSIM") or os.path.join(ROOT, "rcsim"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

SNN_CFG = """[task]
name = tmnist
data_dir = {data}
validation = 30
[model]
type = snn
layers = conv4k3p1 pool2 fc16 fc10
bias = true
v_th = 0.7
[encoder]
type = rate
[train]
lr = 0.01
batch = 20
epochs = 1
val_every = 5
val_size = 30
[test]
size = 100000
[output]
progress = off
trace_layers = conv1,fc1,output
trace_after_spike = true
trace_examples = 9,2,4,5
trace_membrane = fc1
"""

LSTM_CFG = """[task]
name = spotting
[model]
hidden = 8
[train]
examples = 128
batch = 32
val_every = 2
val_size = 64
[test]
size = 64
[output]
progress = off
"""


def write_idx(path, arr):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, arr.ndim]))
        for d in arr.shape:
            f.write(struct.pack(">I", d))
        f.write(arr.astype(np.uint8).tobytes())


def write_mnist(folder, ntr=240, nte=30):
    """A 3-class temporal MNIST: which third of the image is bright."""
    os.makedirs(folder, exist_ok=True)
    img = np.zeros((ntr, 28, 28), np.uint8)
    lab = np.arange(ntr) % 3
    r, c = np.mgrid[0:28, 0:28]
    for i in range(ntr):
        on = (c // 10 == lab[i]) & ((r + c + i) % 3 != 0)
        img[i][on] = (100 + (r * 5 + i) % 156)[on]
    write_idx(os.path.join(folder, "train-images-idx3-ubyte"), img)
    write_idx(os.path.join(folder, "train-labels-idx1-ubyte"), lab)
    write_idx(os.path.join(folder, "t10k-images-idx3-ubyte"), img[:nte])
    write_idx(os.path.join(folder, "t10k-labels-idx1-ubyte"), lab[:nte])


def sh(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, MPLBACKEND="Agg"))
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def rcplot(*args, check=True):
    """tools/rcplot.py ARGS as its own process (what a user sees)."""
    return sh("/usr/bin/python3", RCPLOT, *args, check=check)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def rcplot_here(*args, check=True):
    """rcplot.main() with ARGS in this process (no interpreter start-up); an
    exception other than SystemExit fails the test, as a traceback would."""
    import contextlib
    import io
    import rcplot as rp
    out, err, code = io.StringIO(), io.StringIO(), 0
    saved = sys.argv
    sys.argv = ["rcplot.py", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = rp.main() or 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
    finally:
        sys.argv = saved
    r = Result(code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"rcplot {' '.join(args)} exited {code}:\n{r.stdout}\n{r.stderr}")
    return r


class RcplotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rcsim_rcplot_")
        data = os.path.join(cls.tmp, "mn")
        write_mnist(data)
        cls.cfg = os.path.join(cls.tmp, "snn.cfg")
        with open(cls.cfg, "w") as f:
            f.write(SNN_CFG.format(data=data))
        cls.snn = os.path.join(cls.tmp, "snn")
        sh(RCSIM, "run", cls.cfg, "--out", cls.snn)
        sh(RCSIM, "eval", cls.cfg, "--model", os.path.join(cls.snn, "model.h5"), "--out",
           os.path.join(cls.snn, "eval"), "--thresholds", "0.8,1,1.5")
        lcfg = os.path.join(cls.tmp, "lstm.cfg")
        with open(lcfg, "w") as f:
            f.write(LSTM_CFG)
        cls.lstm = os.path.join(cls.tmp, "lstm")
        sh(RCSIM, "run", lcfg, "--out", cls.lstm)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_strings_are_str(self):
        """Every string attribute of traces.h5 reads back as str, UTF-8 intact."""
        for path in (os.path.join(self.snn, "traces.h5"), os.path.join(self.snn, "eval", "traces.h5"),
                     os.path.join(self.lstm, "traces.h5")):
            seen = []

            def visit(name, obj):
                for k, v in obj.attrs.items():
                    if k == "sorting":
                        continue
                    if isinstance(v, (bytes, np.bytes_)):
                        self.fail(f"{path}: {name or '/'} attribute {k} reads as bytes: {v!r}")
                    if isinstance(v, str):
                        seen.append(k)
            with h5py.File(path, "r") as f:
                visit("", f)
                f.visititems(visit)
                self.assertIsInstance(f.attrs["config"], str)
                self.assertIn("[model]", f.attrs["config"])
                self.assertIsInstance(f["rc"].attrs["mode"], str)
                self.assertEqual(f["spikes/output/timestamps"].attrs["units"], "ms")
                self.assertEqual(int(f.attrs["T"]), int(f["rc"].attrs["T"]))
                self.assertEqual(float(f.attrs["example_ms"]), f.attrs["T"] * f.attrs["dt_ms"])
                self.assertEqual(f["spikes/output"].attrs["dims"], "class")
            for k in ("config", "rcsim_version", "git_revision", "mode", "units", "dims", "node_id_mapping"):
                self.assertIn(k, seen, path)
        with h5py.File(os.path.join(self.snn, "traces.h5"), "r") as f:
            g = f["spikes/conv1"]
            self.assertEqual(list(g.attrs["shape"]), [28, 28, 4])
            self.assertEqual(int(g.attrs["size"]), 28 * 28 * 4)
            self.assertEqual(g.attrs["node_id_mapping"], "node_id = (y*28 + x)*4 + channel")

    def test_help_lists_every_mode(self):
        out = rcplot("--help").stdout
        for mode in ("RUN_DIR", "--raster", "--example", "--examples", "--compare OUT.png",
                     "--compare-training OUT.png", "--compare-macs OUT.png", "eval"):
            self.assertIn(mode, out)

    def test_run_folder_with_eval_subfolder(self):
        """The run folder's figures, the trade-off from RUN/eval/tradeoff.csv."""
        for f in ("fig_spikes.png", "fig_spike_time.png", "fig_tradeoff.png"):
            p = os.path.join(self.snn, f)
            if os.path.exists(p):
                os.remove(p)
        self.assertFalse(os.path.exists(os.path.join(self.snn, "tradeoff.csv")))
        out = rcplot_here(self.snn).stdout
        for f in ("fig_spikes.png", "fig_spike_time.png", "fig_tradeoff.png"):
            self.assertTrue(os.path.getsize(os.path.join(self.snn, f)) > 1000, f)
            self.assertIn(f, out)

    def test_lstm_folder(self):
        p = rcplot_here(self.lstm)
        self.assertTrue(os.path.exists(os.path.join(self.lstm, "fig_spikes.png")))
        self.assertIn("trade-off plot skipped", p.stdout)

    def test_raster(self):
        """A hidden layer's raster for one example; default: the first traced one."""
        rcplot_here(self.snn, "--raster", "fc1", "--example", "5")
        self.assertTrue(os.path.getsize(os.path.join(self.snn, "fig_raster_fc1_ex5.png")) > 1000)
        rcplot_here(self.snn, "--raster")
        self.assertTrue(os.path.exists(os.path.join(self.snn, "fig_raster_conv1_ex2.png")))
        p = rcplot(self.snn, "--raster", "conv7", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("Traceback", p.stderr)
        self.assertIn("conv7", p.stderr)
        self.assertIn("conv1, fc1, output", p.stderr)

    def test_folder_without_metrics(self):
        """A clear message and a non-zero exit, no traceback."""
        d = os.path.join(self.tmp, "only_traces")
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(self.snn, "traces.h5"), d)
        p = rcplot(d, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("Traceback", p.stderr + p.stdout)
        self.assertIn("metrics.csv not found", p.stderr)
        self.assertTrue(os.path.exists(os.path.join(d, "fig_spikes.png")))
        e = os.path.join(self.tmp, "empty")
        os.makedirs(e, exist_ok=True)
        p = rcplot_here(e, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("Traceback", p.stderr + p.stdout)
        self.assertIn("traces.h5 not found", p.stderr)

    def test_no_spike_colour_is_no_class_colour(self):
        import rcplot as rp
        greyish = lambda c: np.ptp(mcolors.to_rgb(c)) < 0.05  # noqa: E731
        cols = [mcolors.to_hex(rp.class_colour(c)) for c in range(20)]
        self.assertEqual(len(set(cols[:10])), 10)
        none = mcolors.to_hex(rp.NONE_COLOUR)
        self.assertTrue(greyish(none))
        for c in cols:
            self.assertNotEqual(c, none)
            self.assertFalse(greyish(c), c)

    def test_panels_line_up(self):
        """Labels, spikes and activations: the same examples in the same rows."""
        import rcplot as rp
        fig = rp.spikes_figure(os.path.join(self.snn, "traces.h5"), 40)
        a0, a1, a2 = fig.axes[:3]
        ids = [t.get_text() for t in a0.get_yticklabels()]
        self.assertEqual(ids, ["2", "4", "5", "9"])  # the traced examples, sorted
        self.assertEqual(a0.get_ylim(), a2.get_ylim())
        self.assertEqual(a0.get_ylim(), a1.get_ylim())
        img = a2.get_images()[0].get_array()
        self.assertEqual(img.shape[0], 4)
        with h5py.File(os.path.join(self.snn, "traces.h5"), "r") as f:
            act = f["activations/output"][...]
            lab = f["rc/label"][...]
        for i in range(4):
            np.testing.assert_array_equal(np.asarray(img[i]), np.nanmax(act[i], axis=1))
        # Label bars: row i has the colour of example ids[i]'s label.
        for i, bar in enumerate(a0.patches):
            self.assertEqual(mcolors.to_hex(bar.get_facecolor()), mcolors.to_hex(rp.class_colour(lab[int(ids[i])])))


if __name__ == "__main__":
    unittest.main(verbosity=2)
