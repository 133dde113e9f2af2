/* spec.c — the configuration schema. Keep the README's key table in sync:
 * `rcsim run --help` prints this table. */
#include "sim/app/spec.h"

#define BIG 1e18

const rc_cfg_spec rc_spec[] = {
    /* [task] */
    { "task", "name", RC_CFG_ENUM, NULL, 0, 0, "spotting|twoseq|tmnist|speech",
      "task: spotting (paper 3.1), twoseq (2-sequence problem, 3.2), tmnist (latency-coded "
      "MNIST-format images, 3.3) or speech (Speech Commands keywords, 3.4)" },
    { "task", "data_dir", RC_CFG_STRING, "../shared/data/mnist", 0, 0, NULL,
      "tmnist: folder with train-/t10k-images-idx3-ubyte and -labels-idx1-ubyte (raw or .gz); "
      "speech: Speech Commands folder (<word>/*.wav, validation_list.txt, testing_list.txt)" },
    { "task", "keywords", RC_CFG_STRING, "yes,no,up,down,left,right,on,off,stop,go", 0, 0, NULL,
      "speech: the keyword classes, in class order; every other word is the class _unknown_" },
    { "task", "silence", RC_CFG_BOOL, "false", 0, 0, NULL,
      "speech: add the clips of <data_dir>/_silence_ as a last class _silence_; without that folder, "
      "clips cut from noise_dir (see silence_clips)" },
    { "task", "silence_clips", RC_CFG_INT, "0", 0, 1e7, NULL,
      "speech, silence = true and no <data_dir>/_silence_: cut this many 1 s windows of the noise_dir files "
      "at volume ~ U(0, 1) (seeded), split like the word clips; 0 = the mean keyword class size" },
    { "task", "cache_dir", RC_CFG_STRING, "runs/cache", 0, 0, NULL,
      "speech: folder of the HDF5 feature cache (keyed by feature parameters and file list); none = no cache" },
    { "task", "noise_dir", RC_CFG_STRING, "auto", 0, 0, NULL,
      "speech: WAV folder mixed into training clips as noise; auto = <data_dir>/_background_noise_ "
      "if it exists; none = no noise; a relative path is inside data_dir" },
    { "task", "noise_prob", RC_CFG_FLOAT, "0.8", 0, 1, NULL,
      "speech: chance that a training clip gets noise mixed in" },
    { "task", "noise_volume", RC_CFG_FLOAT, "0.1", 0, 10, NULL,
      "speech: noise gain ~ U(0, noise_volume) (clips and noise in [-1, 1])" },
    { "task", "time_shift_ms", RC_CFG_FLOAT, "100", 0, 1000, NULL,
      "speech: training clips are shifted by a uniform random time in [-s, s] ms (0 = off)" },
    { "task", "validation", RC_CFG_INT, "5000", 1, 1e9, NULL,
      "tmnist: the last N training images are the validation set (never trained on)" },
    { "task", "steps", RC_CFG_INT, "0", 0, 4096, NULL,
      "steps per sequence T; 0 = task default (spotting 25, twoseq 40)" },
    { "task", "run_length", RC_CFG_INT, "5", 2, 64, NULL,
      "spotting: length of the run of equal values that makes a positive" },
    { "task", "mean", RC_CFG_FLOAT, "0.05", 0, 10, NULL,
      "twoseq: class means are +mean and -mean" },
    { "task", "sigma_min", RC_CFG_FLOAT, "0.05", 0, 10, NULL,
      "twoseq: per-sequence noise sigma ~ U(sigma_min, sigma_max)" },
    { "task", "sigma_max", RC_CFG_FLOAT, "0.25", 0, 10, NULL,
      "twoseq: upper end of the sigma range" },
    /* [encoder] */
    { "encoder", "steps", RC_CFG_INT, "10", 1, 4096, NULL,
      "tmnist: latency-code steps T (pixel v spikes at ((255-v)*T)/255)" },
    { "encoder", "zero", RC_CFG_ENUM, "skip", 0, 0, "skip|last",
      "tmnist: zero pixels never spike (skip) or spike at the last step (last, as the paper's code)" },
    { "encoder", "mel_bands", RC_CFG_INT, "20", 1, 128, NULL,
      "speech: mel filterbank log energies per 10 ms frame" },
    { "encoder", "context", RC_CFG_INT, "10", 0, 40, NULL,
      "speech: frames of context on either side stacked into one step, without padding "
      "(steps = 101 - 2*context, inputs = (2*context+1)*mel_bands)" },
    { "encoder", "fmin_hz", RC_CFG_FLOAT, "20", 0, 8000, NULL,
      "speech: lower edge of the mel filterbank (Hz)" },
    { "encoder", "fmax_hz", RC_CFG_FLOAT, "8000", 1, 8000, NULL,
      "speech: upper edge of the mel filterbank (Hz)" },
    { "encoder", "type", RC_CFG_ENUM, "latency", 0, 0, "latency|rate",
      "tmnist: latency code (one spike per pixel, brighter earlier) or rate code (each pixel spikes "
      "at each step with probability intensity/255, Poisson-like, counter-based random numbers)" },
    /* [model] */
    { "model", "type", RC_CFG_ENUM, "lstm", 0, 0, "lstm|convlstm|snn",
      "recurrent layer: lstm, convlstm (tmnist images only), or snn (a spiking network of LIF "
      "layers, model.layers)" },
    { "model", "hidden", RC_CFG_INT, "0", 0, 65536, NULL,
      "LSTM hidden units (required for model.type = lstm)" },
    { "model", "channels", RC_CFG_INT, "20", 1, 4096, NULL,
      "convlstm: hidden channels C on the image-sized maps" },
    { "model", "kernel", RC_CFG_INT, "5", 1, 31, NULL,
      "convlstm: k x k kernels (odd), same padding, stride 1" },
    { "model", "layers", RC_CFG_STRING, "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10", 0, 0, NULL,
      "snn: LIF layers, convCkK[pP] (C channels, KxK, padding P, stride 1), pool2 (2x2 average), "
      "fcN; the last is fc with one neuron per class" },
    { "model", "v_th", RC_CFG_FLOAT, "0.5", 1e-6, 1e6, NULL,
      "snn: LIF firing threshold V_th" },
    { "model", "tau", RC_CFG_FLOAT, "0.2", 0, 0.999999, NULL,
      "snn: membrane decay factor per step: u_t = tau*u_{t-1}*(1-o_{t-1}) + W*x_t (+ b)" },
    { "model", "lens", RC_CFG_FLOAT, "0.5", 1e-6, 1e6, NULL,
      "snn: surrogate width a: rect do/du = 1 where |u - V_th| < a" },
    { "model", "surrogate", RC_CFG_ENUM, "rect", 0, 0, "rect|fastsigmoid|atan",
      "snn: surrogate derivative: rect (STBP), fastsigmoid 1/(1+|x|/a)^2, atan 1/(1+(pi*x/2a)^2)" },
    { "model", "reset", RC_CFG_ENUM, "mult", 0, 0, "mult|subtract",
      "snn: after a spike u becomes 0 (mult, STBP) or u - V_th (subtract)" },
    { "model", "bias", RC_CFG_BOOL, "false", 0, 0, NULL,
      "snn: biases in the conv/fc LIF layers (every neuron is then updated every step)" },
    { "model", "head", RC_CFG_INT_LIST, "", 1, 65536, NULL,
      "widths of dense ReLU layers between the LSTM and the output (e.g. 32); empty = none" },
    /* [train] */
    { "train", "mode", RC_CFG_ENUM, "rc", 0, 0, "rc|eos",
      "rc: loss and BPTT from each example's first spike; eos: from the last step" },
    { "train", "threshold", RC_CFG_FLOAT, "0.95", 0.5, 1.0, NULL,
      "spike threshold theta on the output probability (single sigmoid: also <= 1-theta)" },
    { "train", "beta", RC_CFG_FLOAT, "0", -10, 10, NULL,
      "entropy regulariser: loss = CE - beta*H(y) at the spike step" },
    { "train", "lr", RC_CFG_FLOAT, "0.0003", 0, 10, NULL,
      "Adam learning rate" },
    { "train", "adam_beta1", RC_CFG_FLOAT, "0.9", 0, 0.999999, NULL, "Adam beta1" },
    { "train", "adam_beta2", RC_CFG_FLOAT, "0.999", 0, 0.99999999, NULL, "Adam beta2" },
    { "train", "adam_eps", RC_CFG_FLOAT, "1e-8", 1e-30, 1, NULL,
      "Adam epsilon (> 0: with 0, a weight whose gradient is always 0 becomes 0/0 = NaN)" },
    { "train", "clip", RC_CFG_FLOAT, "0", 0, BIG, NULL,
      "clip the gradient's global L2 norm to this value; 0 = no clipping" },
    { "train", "batch", RC_CFG_INT, "128", 1, 65536, NULL,
      "training batch size" },
    { "train", "examples", RC_CFG_INT, "1500000", 1, 1e12, NULL,
      "training examples in total (rounded up to whole batches)" },
    { "train", "epochs", RC_CFG_FLOAT, "0", 0, 1e6, NULL,
      "finite data sets: passes over the training set (overrides train.examples when > 0)" },
    { "train", "val_every", RC_CFG_INT, "50", 1, 1e9, NULL,
      "validate every N training batches (and after the last)" },
    { "train", "val_size", RC_CFG_INT, "2000", 1, 1e9, NULL,
      "validation examples (an independent set, never trained on)" },
    { "train", "select", RC_CFG_ENUM, "auto", 0, 0, "auto|rc|end|last",
      "model kept for testing: best validation accuracy at the first spike (rc), at the last "
      "step (end), or the last model; auto = rc for mode rc, end for mode eos" },
    { "train", "select_after", RC_CFG_FLOAT, "0", 0, 1, NULL,
      "only validation points after this fraction of training may be selected (RC keeps "
      "speeding answers up during training; 0 = any point)" },
    { "train", "select_max_spike_step", RC_CFG_FLOAT, "0", 0, 1e9, NULL,
      "latency budget for selection: only validation points whose mean spike step is at most "
      "this may be selected (0 = no budget; the last point is kept if none qualifies)" },
    { "train", "stop_below_majority", RC_CFG_BOOL, "false", 0, 0, NULL,
      "early stopping (paper B.4): stop training at a validation point whose RC-inference accuracy is "
      "below the validation set's majority-class fraction, once the kept model was above it" },
    { "train", "lr_decay_at", RC_CFG_FLOAT, "1", 0, 1, NULL,
      "multiply lr by lr_decay after this fraction of training (1 = never)" },
    { "train", "lr_decay", RC_CFG_FLOAT, "1", 0, 1, NULL,
      "learning-rate factor applied at lr_decay_at" },
    /* [test] */
    { "test", "size", RC_CFG_INT, "10000", 1, 1e9, NULL,
      "test examples (fresh sequences, never seen in training or validation)" },
    { "test", "batch", RC_CFG_INT, "256", 1, 65536, NULL,
      "inference batch size (validation and test)" },
    /* [sim] */
    { "sim", "seed", RC_CFG_INT, "1", 0, 9.2e18, NULL,
      "seed of data and initial weights (same seed => same numbers, any thread count)" },
    { "sim", "threads", RC_CFG_INT, "0", 0, 4096, NULL,
      "worker threads; 0 = one per core" },
    { "sim", "placement", RC_CFG_ENUM, "spread", 0, 0, "spread|compact",
      "thread pinning: spread over NUMA nodes first, or fill cores in order" },
    { "sim", "topology", RC_CFG_STRING, "host", 0, 0, NULL,
      "machine to plan for: host (this one), synthetic:<hwloc synthetic description> (e.g. "
      "synthetic:pack:2 numa:2 core:8 pu:2) or xml:<hwloc XML file> (or a path ending in .xml); "
      "only host binds threads and memory, the others are for rcsim info" },
    { "sim", "dt_ms", RC_CFG_FLOAT, "1", 1e-9, 1e9, NULL,
      "duration of one step in ms (for spike timestamps)" },
    /* [output] */
    { "output", "dir", RC_CFG_STRING, "runs/out", 0, 0, NULL,
      "run folder for summary.json and metrics.csv (--out overrides)" },
    { "output", "progress", RC_CFG_ENUM, "auto", 0, 0, "auto|line|log|off",
      "progress on stderr: one updating line (terminal), periodic log lines, or none; auto = line on a terminal" },
    { "output", "checkpoint_every", RC_CFG_INT, "500", 0, 1e12, NULL,
      "write model.h5 every N training batches (and always at the end or on SIGINT/SIGTERM); 0 = only then" },
    { "output", "traces", RC_CFG_BOOL, "true", 0, 0, NULL,
      "write traces.h5 (SONATA spike report of the test set, RC outcomes, activations)" },
    { "output", "trace_layers", RC_CFG_STRING, "output", 0, 0, NULL,
      "comma-separated spiking populations written to traces.h5 /spikes (the LSTM models have one: output; "
      "an SNN also has its LIF layers conv1, conv2, ..., fc1, ..., the last being output)" },
    { "output", "trace_examples", RC_CFG_INT_LIST, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19", 0, 1e12, NULL,
      "test examples (ascending ids) whose per-step activations go to traces.h5 /activations" },
    { "output", "trace_after_spike", RC_CFG_BOOL, "false", 0, 0, NULL,
      "record activations after the first spike too (paper Figs. 1F-G), else until t_sp" },
    { "output", "log_every_s", RC_CFG_FLOAT, "10", 0.1, 1e9, NULL,
      "seconds between progress log lines when not on a terminal" },
};

const size_t rc_nspec = sizeof rc_spec / sizeof rc_spec[0];
