#!/usr/bin/python3
"""test_rcplot_delta.py — tools/rcplot.py's delta-LSTM figures on synthetic
files (no rcsim run needed):
  * --raster on a traces.h5 whose /spikes/hidden_events has a `values` column
    (the layout io/traces.h documents): the points drawn are exactly the
    chosen example's events, at 1-based steps, coloured by their values;
    hidden_events is the default population; an unknown example is a
    one-line error;
  * tools/rcsim_io.py's load_events reads them back;
  * --compare-macs: one curve per tradeoff.csv, x = macs_per_example and
    y = accuracy sorted by MACs, labelled; a delta sweep's Pareto front; a file without macs_per_example (an
    SNN's) or an item without LABEL= is a one-line error, no traceback.

    /usr/bin/python3 tests/py/test_rcplot_delta.py      (from the repository root)

Exits 77 (skipped) with a message when h5py or matplotlib is missing. Run by
tests/test_delta_app.c."""
import os
import shutil
import sys
import tempfile
import unittest

try:
    import h5py
    import matplotlib
    matplotlib.use("Agg")
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"test_rcplot_delta: skipped: {e} (make plot-deps installs them)")
    sys.exit(77)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rcplot as rp  # noqa: E402
from test_rcplot import rcplot, rcplot_here  # noqa: E402

T, DT, H = 6, 0.5, 5
# (example, step 0-based, unit, value) of the hidden events, in time order.
EVENTS = [(0, 1, 2, 0.25), (0, 3, 0, -0.5), (2, 1, 4, 0.125), (2, 1, 1, -0.75), (2, 4, 3, 1.0), (3, 5, 0, 0.5)]
TRADEOFF_HEAD = ("threshold,accuracy,mean_spike_step,mean_spike_fraction,no_spike_fraction,accuracy_at_end,"
                 "examples_per_s,mean_spike_ms,events_per_example,macs_per_example,delta_x,delta_h,"
                 "hidden_events_per_example,hidden_events_per_unit_step,macs_dense_recurrent_per_example\n")


def write_traces(path):
    """A traces.h5 of 4 examples (T = 6, dt = 0.5 ms, H = 5) with output
    spikes and the hidden events EVENTS; examples 0 and 2 traced."""
    with h5py.File(path, "w") as f:
        f.attrs["T"] = np.int32(T)
        f.attrs["dt_ms"] = DT
        rc = f.create_group("rc")
        rc.attrs["T"] = np.int32(T)
        rc["example_ids"] = np.arange(4, dtype=np.uint64)
        rc["t_sp"] = np.array([3, 6, 5, 6], np.int32)
        rc["spiked"] = np.array([1, 0, 1, 0], np.uint8)
        rc["pred"] = np.array([1, 0, 0, 1], np.int32)
        rc["label"] = np.array([1, 0, 0, 1], np.int32)
        out = f.create_group("spikes/output")
        out.attrs["size"] = np.uint64(2)
        out["example_ids"] = np.array([0, 2], np.uint64)
        out["timestamps"] = np.array([(0 * T + 2) * DT, (2 * T + 4) * DT])
        out["node_ids"] = np.array([1, 0], np.uint64)
        g = f.create_group("spikes/hidden_events")
        g.attrs["size"] = np.uint64(H)
        g.attrs["shape"] = np.array([H], np.int64)
        g.attrs["dims"] = "unit"
        g["example_ids"] = np.array([e[0] for e in EVENTS], np.uint64)
        g["timestamps"] = np.array([(e[0] * T + e[1]) * DT for e in EVENTS])
        g["node_ids"] = np.array([e[2] for e in EVENTS], np.uint64)
        g["values"] = np.array([e[3] for e in EVENTS], np.float32)
        a = f.create_group("activations")
        a["output_example_ids"] = np.array([0, 2], np.uint64)


def write_tradeoff(path, rows):
    """rows: (threshold, accuracy, macs_per_example, delta_h)."""
    with open(path, "w") as f:
        f.write(TRADEOFF_HEAD)
        for th, acc, macs, dh in rows:
            f.write(f"{th},{acc},3.0,0.3,0,{acc},1000.0,3.00,10.0,{macs},0,{dh},5.0,0.2,{macs * 2}\n")


class DeltaPlotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rcsim_rcplot_delta_")
        cls.folder = os.path.join(cls.tmp, "run")
        os.makedirs(cls.folder)
        write_traces(os.path.join(cls.folder, "traces.h5"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_event_raster_points_and_colours(self):
        fig, pop, ex = rp.raster_figure(os.path.join(self.folder, "traces.h5"), "hidden_events", 2)
        self.assertEqual((pop, ex), ("hidden_events", 2))
        pts = fig.axes[0].collections[0]
        mine = [e for e in EVENTS if e[0] == 2]
        np.testing.assert_array_equal(pts.get_offsets(), [[e[1] + 1, e[2]] for e in mine])
        np.testing.assert_array_equal(pts.get_array(), [e[3] for e in mine])
        self.assertEqual(pts.get_clim(), (-1.0, 1.0))  # symmetric around 0: the sign reads as the colour
        self.assertIn("3 events of example 2", fig.axes[0].get_title())
        self.assertEqual(fig.axes[0].get_ylim(), (-0.5, H - 0.5))

    def test_load_events(self):
        """tools/rcsim_io.py's load_events: the events as written, steps 0-based."""
        import rcsim_io
        steps, units, ex, vals = rcsim_io.load_events(os.path.join(self.folder, "traces.h5"))
        np.testing.assert_array_equal(ex, [e[0] for e in EVENTS])
        np.testing.assert_array_equal(steps, [e[1] for e in EVENTS])
        np.testing.assert_array_equal(units, [e[2] for e in EVENTS])
        np.testing.assert_array_equal(vals, np.array([e[3] for e in EVENTS], np.float32))
        with self.assertRaises(KeyError):
            rcsim_io.load_events(os.path.join(self.folder, "traces.h5"), "output")

    def test_event_raster_default_population(self):
        """hidden_events is the default POP, the first traced example the default example."""
        out = rcplot_here(self.folder, "--raster").stdout
        p = os.path.join(self.folder, "fig_raster_hidden_events_ex0.png")
        self.assertIn(p, out)
        self.assertGreater(os.path.getsize(p), 1000)
        r = rcplot(self.folder, "--raster", "hidden_events", "--example", "7", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("Traceback", r.stderr)
        self.assertIn("no example 7", r.stderr)

    def test_compare_macs_curves(self):
        a, b = os.path.join(self.tmp, "a.csv"), os.path.join(self.tmp, "b.csv")
        write_tradeoff(a, [(0.9, 0.8, 3000.0, 0), (0.5, 0.6, 1000.0, 0), (0.99, 0.9, 5000.0, 0)])
        # A Δh sweep: (600, 0.65) is beaten by (400, 0.7), so it is off the front.
        write_tradeoff(b, [(0.9, 0.85, 800.0, 0.05), (0.9, 0.7, 400.0, 0.1), (0.95, 0.65, 600.0, 0.1)])
        fig = rp.macs_figure([f"RC={a}", f"RC + delta={b}"], "t")
        ax = fig.axes[0]
        self.assertEqual([ln.get_label() for ln in ax.get_lines()], ["RC", "RC + delta (Pareto front)"])
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1000.0, 3000.0, 5000.0])
        np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [0.6, 0.8, 0.9])
        np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [400.0, 800.0])
        np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [0.7, 0.85])
        self.assertEqual(len(ax.collections), 1)  # the point off the front, as a marker
        np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[600.0, 0.65]])
        notes = [t.get_text() for t in ax.texts]
        self.assertIn("θ=0.5", notes)              # a file without a Δh sweep: θ only
        self.assertIn("θ=0.9, Δh=0.1", notes)      # a Δh sweep: both
        self.assertEqual(ax.get_xscale(), "linear")  # 400 .. 5000: within 20x
        self.assertIn("multiply-accumulates", ax.get_xlabel())
        out = os.path.join(self.tmp, "macs.png")
        r = rcplot_here("--compare-macs", out, f"RC={a}", f"delta={b}")
        self.assertIn(out, r.stdout)
        self.assertGreater(os.path.getsize(out), 1000)

    def test_compare_macs_errors(self):
        snn = os.path.join(self.tmp, "snn.csv")
        with open(snn, "w") as f:
            f.write("threshold,accuracy,mean_spike_step,synops_per_example\n1,0.9,3.0,1234.0\n")
        for args, want in (([f"S={snn}"], "no 'macs_per_example' column"),
                           ([snn], "expected LABEL=TRADEOFF.csv"),
                           ([f"X={self.tmp}/none.csv"], "not found")):
            r = rcplot("--compare-macs", os.path.join(self.tmp, "bad.png"), *args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertNotIn("Traceback", r.stderr)
            self.assertIn(want, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad.png")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
