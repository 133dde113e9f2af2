/* spec.c — the configuration schema. Keep the README's key table in sync:
 * `rcsim run --help` prints this table. */
#include <float.h>
#include "sim/app/spec.h"

#define BIG 1e18

const rc_cfg_spec rc_spec[] = {
    /* [task] */
    { "task", "name", RC_CFG_ENUM, NULL, 0, 0, "spotting|twoseq|tmnist|speech|events|network",
      "task: spotting (paper 3.1), twoseq (2-sequence problem, 3.2), tmnist (latency-coded "
      "MNIST-format images, 3.3), speech (Speech Commands keywords, 3.4), events (a labelled event data "
      "set in HDF5: SHD/SSC layout or flat) or network (a network of point "
      "neurons: [population.*], [projection.*], [source.*], [record.*])" },
    { "task", "train_file", RC_CFG_STRING, "none", 0, 0, NULL,
      "events: HDF5 training file, SHD layout (/spikes/times, /spikes/units, /labels) or flat layout "
      "(/events/times, /events/units, /events/example, /labels); times in seconds" },
    { "task", "test_file", RC_CFG_STRING, "none", 0, 0, NULL,
      "events: HDF5 test file (same layouts)" },
    { "task", "val_file", RC_CFG_STRING, "none", 0, 0, NULL,
      "events: HDF5 validation file (e.g. SSC's ssc_valid.h5); none = the last task.validation training examples" },
    { "task", "channels", RC_CFG_INT, "0", 0, 16777216, NULL,
      "events: input channels (700 for SHD/SSC); every unit index must be below it (required)" },
    { "task", "shape", RC_CFG_INT_LIST, "", 1, 16777216, NULL,
      "events: rows,cols: lay the channels out as an image (channel = row*cols + col, rows*cols = "
      "channels) for model.type = convlstm or snn conv layers" },
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
      "tmnist: the last N training images are the validation set (never trained on); events (without "
      "val_file): the last N training examples, unset = a tenth of them" },
    { "task", "steps", RC_CFG_INT, "0", 0, 4096, NULL,
      "steps per sequence T; 0 = task default (spotting 25, twoseq 40, events: up to the last event "
      "of the files; events after step T are dropped)" },
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
    { "encoder", "shift", RC_CFG_INT, "0", 0, 8, NULL,
      "tmnist: training augmentation: each training image, on each pass, moved by a uniform random "
      "(dy, dx) in [-shift, shift] pixels (0 = off; validation and test images are never changed)" },
    { "encoder", "drop", RC_CFG_FLOAT, "0", 0, 0.9, NULL,
      "tmnist: training augmentation: each pixel of a training image dropped with this probability on "
      "each pass; the events sent carry 1/(1-drop) (inverted dropout; 0 = off)" },
    { "encoder", "merge", RC_CFG_ENUM, "sum", 0, 0, "sum|saturate",
      "events: events in the same step (sim.dt_ms bin) and channel add up (sum: the input value is "
      "their count) or give one event of value 1 (saturate)" },
    /* [model] */
    { "model", "type", RC_CFG_ENUM, "lstm", 0, 0, "lstm|convlstm|snn|nir",
      "recurrent layer: lstm, convlstm (tmnist images, or events with task.shape), or snn (a spiking "
      "network of LIF layers, model.layers, or of a NIR file, model.nir); nir is refused with that advice" },
    { "model", "hidden", RC_CFG_INT, "0", 0, 65536, NULL,
      "LSTM hidden units (required for model.type = lstm; with another type only 0)" },
    { "model", "delta_x", RC_CFG_FLOAT, "0", 0, DBL_MAX, NULL,
      "lstm, convlstm: delta threshold on the input side: per example, an input channel sends its change to the "
      "gate memory only when its value moved by at least this from the last value it sent; 0 = exact" },
    { "model", "delta_h", RC_CFG_FLOAT, "0", 0, DBL_MAX, NULL,
      "lstm, convlstm: delta threshold on the recurrent side: a hidden unit sends its change (an event, one "
      "weight column; convlstm: one k x k kernel per channel) only when h moved by at least this from the last "
      "value it sent; 0 = exact (dense recurrent product)" },
    { "model", "channels", RC_CFG_INT, "20", 1, 4096, NULL,
      "convlstm: hidden channels C on the image-sized maps" },
    { "model", "kernel", RC_CFG_INT, "5", 1, 31, NULL,
      "convlstm: k x k kernels (odd), same padding, stride 1" },
    { "model", "layers", RC_CFG_STRING, "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10", 0, 0, NULL,
      "snn: LIF layers, convCkK[pP] (C channels, KxK, padding P, stride 1), pool2 (2x2 average), "
      "fcN, rfcN (recurrent), rfcNa (recurrent, adaptive threshold), liN (leaky-integrator readout, "
      "last only); the last is fcN or liN with one neuron per class" },
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
    { "model", "tau_rec", RC_CFG_FLOAT, "0.9", 0, 0.999999, NULL,
      "snn: membrane decay factor per step of the recurrent rfcN / rfcNa layers (only with such a layer)" },
    { "model", "learn_tau", RC_CFG_BOOL, "false", 0, 0, NULL,
      "snn: learn one decay per rfc neuron, tau_j = sigmoid(kappa_j), starting at model.tau_rec "
      "(only with an rfcN or rfcNa layer)" },
    { "model", "alif_rho", RC_CFG_FLOAT, "0.95", 0, 0.999999, NULL,
      "snn: adaptation decay rho of rfcNa layers, a_t = rho*a_{t-1} + o_{t-1} (only with an rfcNa layer)" },
    { "model", "alif_beta", RC_CFG_FLOAT, "0.2", 0, 1e6, NULL,
      "snn: adaptation strength of rfcNa layers, threshold V_th + alif_beta*a_t (only with an rfcNa layer)" },
    { "model", "tau_out", RC_CFG_FLOAT, "0.9", 0, 0.999999, NULL,
      "snn: decay factor per step of an liN leaky-integrator readout (only with one)" },
    { "model", "v_out", RC_CFG_FLOAT, "1", 1e-6, 1e6, NULL,
      "snn: RC threshold of an liN readout: its first step with a potential above v_out is the spike "
      "(eval --thresholds scales it; only with an liN readout)" },
    { "model", "bias", RC_CFG_BOOL, "false", 0, 0, NULL,
      "snn: biases in the conv/fc LIF layers (every neuron is then updated every step)" },
    { "model", "nir", RC_CFG_STRING, "none", 0, 0, NULL,
      "snn: none, or a NIR file (HDF5, e.g. from rcsim export-nir) giving the LIF layers, weights, V_th, tau, reset "
      "and biases (model.layers, v_th, tau, reset and bias must then not be set)" },
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
    { "train", "delta_l1", RC_CFG_FLOAT, "0", 0, DBL_MAX, NULL,
      "lstm: L1 penalty on the hidden units' change: adds delta_l1 x the mean over units of |h_t - h_(t-1)| "
      "(h_(-1) = 0) for every step up to the loss step to each example's loss, so fewer units move by "
      "model.delta_h and send events; 0 = none" },
    { "train", "weight_decay", RC_CFG_FLOAT, "0", 0, 1, NULL,
      "decoupled weight decay (AdamW, PyTorch's form): each step multiplies every parameter by "
      "1 - lr*weight_decay before the Adam update; 0 = none" },
    { "train", "batch", RC_CFG_INT, "128", 1, 65536, NULL,
      "training batch size" },
    { "train", "shards", RC_CFG_INT, "1", 1, 65536, NULL,
      "cut every training batch into this many shards whose gradients are summed in shard order; "
      "results are bit-identical for any number of MPI ranks up to it (mpirun -np P, P <= shards). "
      "1 = the batch as one piece (one rank only); other values give other (equally valid) bits" },
    { "train", "examples", RC_CFG_INT, "1500000", 1, 1e12, NULL,
      "training examples in total (rounded up to whole batches); not together with train.epochs > 0" },
    { "train", "epochs", RC_CFG_FLOAT, "0", 0, 1e6, NULL,
      "finite data sets: passes over the training set (when > 0, in place of train.examples)" },
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
    { "train", "select_min_spike_step", RC_CFG_FLOAT, "0", 0, 1e9, NULL,
      "slow-regime floor for selection: only validation points whose mean spike step is at least "
      "this may be selected (0 = no floor; the last point is kept if none qualifies)" },
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
      "worker threads; 0 = one per core the process may use, leaving out cores busy at start" },
    { "sim", "placement", RC_CFG_ENUM, "spread", 0, 0, "spread|compact",
      "thread pinning: spread over NUMA nodes first, or fill cores in order" },
    { "sim", "topology", RC_CFG_STRING, "host", 0, 0, NULL,
      "machine to plan for: host (this one), synthetic:<hwloc synthetic description> (e.g. "
      "synthetic:pack:2 numa:2 core:8 pu:2) or xml:<hwloc XML file> (or a path ending in .xml); "
      "only host binds threads and memory, the others are for rcsim info" },
    { "sim", "dt_ms", RC_CFG_FLOAT, "1", 1e-9, 1e9, NULL,
      "duration of one step in ms (for spike timestamps); events: the bin width, an event at t s "
      "is in step floor(t*1000/dt_ms)" },
    /* [sim] network task */
    { "sim", "time_ms", RC_CFG_FLOAT, "1000", 0, 1e12, NULL,
      "network: simulated time (ms)" },
    /* [population.NAME] (task.name = network): units ms, mV, pF, nS, pA; a key
     * the model does not have is an error; unset keys take NEST's default for
     * the model (iaf_cond_exp: V_reset -60, tau_syn_ex 0.2, E_in -85, g_L 16.6667) */
    { "population.*", "size", RC_CFG_INT, NULL, 1, 4e9, NULL, "network: neurons in the population" },
    { "population.*", "model", RC_CFG_ENUM, "iaf_psc_delta", 0, 0, "iaf_psc_delta|iaf_psc_exp|iaf_cond_exp",
      "network: neuron model (NEST's): delta-current, exponential-current or exponential-conductance LIF" },
    { "population.*", "C_m", RC_CFG_FLOAT, "250", 1e-9, 1e12, NULL, "network: membrane capacitance (pF)" },
    { "population.*", "tau_m", RC_CFG_FLOAT, "10", 1e-9, 1e12, NULL,
      "network: membrane time constant (ms; iaf_psc_delta, iaf_psc_exp)" },
    { "population.*", "g_L", RC_CFG_FLOAT, "16.6667", 1e-9, 1e12, NULL, "network: leak conductance (nS; iaf_cond_exp)" },
    { "population.*", "t_ref", RC_CFG_FLOAT, "2", 0, 1e9, NULL, "network: refractory period (ms)" },
    { "population.*", "E_L", RC_CFG_FLOAT, "-70", -BIG, BIG, NULL, "network: resting potential (mV)" },
    { "population.*", "V_th", RC_CFG_FLOAT, "-55", -BIG, BIG, NULL, "network: threshold (mV)" },
    { "population.*", "V_reset", RC_CFG_FLOAT, "-70", -BIG, BIG, NULL,
      "network: reset potential (mV; iaf_cond_exp default -60)" },
    { "population.*", "I_e", RC_CFG_FLOAT, "0", -BIG, BIG, NULL, "network: constant input current (pA)" },
    { "population.*", "tau_syn_ex", RC_CFG_FLOAT, "2", 1e-9, 1e12, NULL,
      "network: excitatory synaptic time constant (ms; iaf_psc_exp, iaf_cond_exp: default 0.2)" },
    { "population.*", "tau_syn_in", RC_CFG_FLOAT, "2", 1e-9, 1e12, NULL,
      "network: inhibitory synaptic time constant (ms; iaf_psc_exp, iaf_cond_exp)" },
    { "population.*", "E_ex", RC_CFG_FLOAT, "0", -BIG, BIG, NULL, "network: excitatory reversal potential (mV; iaf_cond_exp)" },
    { "population.*", "E_in", RC_CFG_FLOAT, "-85", -BIG, BIG, NULL, "network: inhibitory reversal potential (mV; iaf_cond_exp)" },
    { "population.*", "V_m", RC_CFG_FLOAT, "-70", -BIG, BIG, NULL, "network: initial membrane potential (mV; default E_L)" },
    { "population.*", "V_m_min", RC_CFG_FLOAT, "0", -BIG, BIG, NULL,
      "network: initial V uniform in [V_m_min, V_m_max] (mV; set both, instead of V_m)" },
    { "population.*", "V_m_max", RC_CFG_FLOAT, "0", -BIG, BIG, NULL, "network: see V_m_min" },
    /* [projection.NAME] */
    { "projection.*", "source", RC_CFG_STRING, NULL, 0, 0, NULL, "network: source population" },
    { "projection.*", "target", RC_CFG_STRING, NULL, 0, 0, NULL, "network: target population" },
    { "projection.*", "rule", RC_CFG_ENUM, NULL, 0, 0,
      "fixed_indegree|fixed_outdegree|pairwise_bernoulli|one_to_one|all_to_all",
      "network: connection rule (NEST's names)" },
    { "projection.*", "indegree", RC_CFG_INT, "0", 0, 4e9, NULL, "network: fixed_indegree: sources per target" },
    { "projection.*", "outdegree", RC_CFG_INT, "0", 0, 4e9, NULL, "network: fixed_outdegree: targets per source" },
    { "projection.*", "p", RC_CFG_FLOAT, "0", 0, 1, NULL, "network: pairwise_bernoulli: connection probability" },
    { "projection.*", "autapses", RC_CFG_BOOL, "true", 0, 0, NULL,
      "network: allow a neuron to connect to itself (source = target population)" },
    { "projection.*", "multapses", RC_CFG_BOOL, "true", 0, 0, NULL,
      "network: allow several synapses between one pair (fixed_indegree, fixed_outdegree)" },
    { "projection.*", "weight", RC_CFG_FLOAT, NULL, -BIG, BIG, NULL,
      "network: weight (mV for iaf_psc_delta, pA iaf_psc_exp, nS iaf_cond_exp; < 0 = inhibitory input); "
      "the mean for weight_dist = normal" },
    { "projection.*", "weight_dist", RC_CFG_ENUM, "constant", 0, 0, "constant|uniform|normal",
      "network: constant weight, uniform in [weight_min, weight_max], or normal (weight, weight_sd) "
      "clipped to [weight_min, weight_max]" },
    { "projection.*", "weight_sd", RC_CFG_FLOAT, "0", 0, BIG, NULL, "network: weight_dist = normal: standard deviation" },
    { "projection.*", "weight_min", RC_CFG_FLOAT, "-1e18", -BIG, BIG, NULL, "network: lower bound (uniform, normal)" },
    { "projection.*", "weight_max", RC_CFG_FLOAT, "1e18", -BIG, BIG, NULL, "network: upper bound (uniform, normal)" },
    { "projection.*", "delay_ms", RC_CFG_FLOAT, "1", 0, 6000, NULL,
      "network: delay (ms, rounded to steps, at least one step); the mean for delay_dist = normal" },
    { "projection.*", "delay_dist", RC_CFG_ENUM, "constant", 0, 0, "constant|uniform|normal",
      "network: as weight_dist, with delay_min, delay_max, delay_sd" },
    { "projection.*", "delay_sd", RC_CFG_FLOAT, "0", 0, BIG, NULL, "network: delay_dist = normal: standard deviation (ms)" },
    { "projection.*", "delay_min", RC_CFG_FLOAT, "0", 0, 6000, NULL, "network: lower delay bound (ms)" },
    { "projection.*", "delay_max", RC_CFG_FLOAT, "0", 0, 6000, NULL, "network: upper delay bound (ms)" },
    /* [source.NAME] */
    { "source.*", "type", RC_CFG_ENUM, "poisson", 0, 0, "poisson|spike_file|images",
      "network: poisson (an independent train per target, like NEST's poisson_generator), spike_file "
      "(SONATA spikes from an HDF5 file, replayed one-to-one onto the targets) or images (MNIST-format "
      "images, latency- or rate-coded, one per window: pixel c drives target first + c)" },
    { "source.*", "target", RC_CFG_STRING, NULL, 0, 0, NULL, "network: target population" },
    { "source.*", "first", RC_CFG_INT, "0", 0, 4e9, NULL, "network: first target neuron (index in the population)" },
    { "source.*", "count", RC_CFG_INT, "0", 0, 4e9, NULL, "network: number of target neurons (0 = to the end)" },
    { "source.*", "rate_hz", RC_CFG_FLOAT, "0", 0, 1e9, NULL, "network: poisson: rate per target (Hz)" },
    { "source.*", "weight", RC_CFG_FLOAT, NULL, -BIG, BIG, NULL, "network: weight of each input spike (units as projections)" },
    { "source.*", "delay_ms", RC_CFG_FLOAT, "0", 0, 6000, NULL, "network: delay (ms; 0 = one step)" },
    { "source.*", "start_ms", RC_CFG_FLOAT, "0", 0, 1e12, NULL,
      "network: poisson: active for emission times in (start_ms, stop_ms] (NEST's convention)" },
    { "source.*", "stop_ms", RC_CFG_FLOAT, "0", 0, 1e12, NULL, "network: poisson: end of activity (0 = never)" },
    { "source.*", "file", RC_CFG_STRING, "none", 0, 0, NULL,
      "network: spike_file: HDF5 file with /spikes/<population>/{timestamps (ms), node_ids} (e.g. a traces.h5)" },
    { "source.*", "population", RC_CFG_STRING, "auto", 0, 0, NULL,
      "network: spike_file: the population group to read (auto = the only one in the file)" },
    { "source.*", "data_dir", RC_CFG_STRING, "../shared/data/mnist", 0, 0, NULL,
      "network: images: folder with <split>-images-idx3-ubyte and -labels-idx1-ubyte (raw or .gz)" },
    { "source.*", "split", RC_CFG_ENUM, "test", 0, 0, "train|test",
      "network: images: train (train-*) or test (t10k-*) images" },
    { "source.*", "first_example", RC_CFG_INT, "0", 0, 1e12, NULL,
      "network: images: example shown in the first window; window w shows first_example + w (wrapping)" },
    { "source.*", "encoder", RC_CFG_ENUM, "latency", 0, 0, "latency|rate",
      "network: images: latency (pixel v spikes once, at step ((255 - v)·steps)/255) or rate (probability "
      "v/255 per step)" },
    { "source.*", "steps", RC_CFG_INT, "10", 1, 4096, NULL, "network: images: encoder steps per image" },
    { "source.*", "step_ms", RC_CFG_FLOAT, "0", 0, 1e9, NULL,
      "network: images: length of an encoder step (ms, a multiple of sim.dt_ms; 0 = one simulation step)" },
    { "source.*", "window_ms", RC_CFG_FLOAT, "100", 0, 1e12, NULL,
      "network: images: presentation window (ms; the image's steps first, then silence)" },
    { "source.*", "zero", RC_CFG_ENUM, "skip", 0, 0, "skip|last",
      "network: images, latency: dark pixels never spike (skip) or spike at the last step (last)" },
    /* [record.NAME] */
    { "record.*", "population", RC_CFG_STRING, NULL, 0, 0, NULL, "network: population recorded" },
    { "record.*", "what", RC_CFG_ENUM, "spikes", 0, 0, "spikes|V_m",
      "network: spikes (to traces.h5 /spikes) or membrane potential (to traces.h5 /report)" },
    { "record.*", "first", RC_CFG_INT, "0", 0, 4e9, NULL, "network: spikes: first recorded neuron" },
    { "record.*", "count", RC_CFG_INT, "0", 0, 4e9, NULL, "network: spikes: recorded neurons (0 = to the end)" },
    { "record.*", "neurons", RC_CFG_INT_LIST, "0", 0, 4e9, NULL, "network: V_m: recorded neurons (at most 64)" },
    { "record.*", "every", RC_CFG_INT, "1", 1, 1e9, NULL, "network: V_m: sample every k steps" },
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
      "an SNN also has its LIF layers conv1, conv2, ..., fc1, ..., the last being output); a delta (Conv)LSTM "
      "(model.delta_h > 0) also writes hidden_events, the hidden events of the trace_examples" },
    { "output", "trace_examples", RC_CFG_INT_LIST, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19", 0, 1e12, NULL,
      "test examples (ascending ids) whose per-step activations go to traces.h5 /activations (and a delta "
      "(Conv)LSTM's hidden events to /spikes/hidden_events)" },
    { "output", "trace_after_spike", RC_CFG_BOOL, "false", 0, 0, NULL,
      "record activations after the first spike too (paper Figs. 1F-G), else until t_sp; an SNN's traced examples "
      "also keep their hidden and output spikes of every step to T" },
    { "output", "trace_all_output_spikes", RC_CFG_BOOL, "false", 0, 0, NULL,
      "SNN: run every test example to T in the spike pass and write all its output spikes to traces.h5 "
      "(else only the first, the answer)" },
    { "output", "trace_membrane", RC_CFG_STRING, "none", 0, 0, NULL,
      "SNN: none, or comma-separated LIF layers (conv1, ..., fc1, ..., output) whose membrane potentials (pre-reset) of "
      "the output.trace_examples go to traces.h5 /activations/<layer>_membrane" },
    { "output", "log_every_s", RC_CFG_FLOAT, "10", 0.1, 1e9, NULL,
      "seconds between progress log lines when not on a terminal" },
};

const size_t rc_nspec = sizeof rc_spec / sizeof rc_spec[0];
