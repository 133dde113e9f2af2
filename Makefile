# rcsim — build, test, run.
#
#   make            build ./rcsim (installs missing Debian packages first)
#   make run        build (-j by nproc) and run configs/default.cfg, print the summary
#   make test       check the layering, build (-j by nproc) and run the cmocka suite
#   make check-layers  fail on an #include that points up a layer
#   make test-asan  the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-valgrind  the I/O tests under valgrind memcheck (AVX2 build)
#   make deps       only install the Debian packages rcsim needs
#   make scaling    thread and sparsity scaling sweeps (QUICK=1: seconds)
#   make fuzz       each libFuzzer harness in tests/fuzz/ for FUZZ_SECONDS (120)
#   make fuzz-check each harness over its seeds + regression corpus, then 10 s
#                   of fuzzing (part of make test; skipped without clang)
#
# No -ffast-math anywhere: it breaks NaN checks and bit-reproducibility.
# -fno-trapping-math and -fno-math-errno change no result (they only let the
# compiler if-convert and vectorise the elementwise loops).

CC       ?= gcc
# python3-h5py and python3-numpy: tools/rcsim_io.py and the tests that read
# rcsim's HDF5 files back (tests/py/, tests/h5check.py); they skip without.
# libopenmpi-dev, openmpi-bin: mpirun runs (sim/comm.h); one rank without.
DEB_PKGS := libcmocka-dev libhwloc-dev libhdf5-dev libopenblas-dev zlib1g-dev pkg-config libfftw3-dev \
            python3-h5py python3-numpy libopenmpi-dev openmpi-bin
PKGS     := hdf5 hwloc openblas zlib fftw3 ompi-c

OPT      ?= -O2
ARCH     ?= native
VECT     ?= -fvect-cost-model=dynamic
CFLAGS_BASE = -std=c11 $(OPT) -g -Wall -Wextra -D_GNU_SOURCE -I. -march=$(ARCH) -ftree-vectorize $(VECT) -fno-trapping-math -fno-math-errno
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   = $(CFLAGS_BASE) $(PKG_CFLAGS) -DRC_GIT_REV=\"$(GIT_REV)\"
LDLIBS   = $(PKG_LIBS) -lpthread -lm
# The revision the binary reports (rcsim --version, summary.json, traces.h5):
# "-dirty" when the tree has uncommitted changes. Only the two files that
# print it depend on its stamp, which changes only when the revision does.
GIT_REV := $(shell git describe --always --dirty --abbrev=7 --exclude='*' 2>/dev/null || echo unknown)

BUILD    ?= build
# The binary: ./rcsim for the normal build, $(BUILD)/rcsim for sanitizer builds.
RCSIM_BIN ?= rcsim
LIB_SRC  := $(wildcard base/*.c io/*.c models/*.c encoders/*.c sim/*.c sim/app/*.c)
LIB_SRC  := $(filter-out sim/app/main.c,$(LIB_SRC))
TEST_SRC := $(wildcard tests/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: FORCE all deps run test check-layers test-valgrind test-valgrind-inner test-asan test-asan-inner clean bench bench-snn plot-deps plot data

all: $(BUILD)/.deps $(RCSIM_BIN)

# Install what is missing, once per build folder (apt-get only when needed).
$(BUILD)/.deps:
	@mkdir -p $(BUILD)
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "rcsim: installing missing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing || \
	    { echo "rcsim: apt-get failed; install by hand:$$missing" >&2; exit 1; }; \
	fi
	@touch $@

deps: $(BUILD)/.deps

# Includes point down only: base <- io, models <- encoders <- sim <- sim/app.
check-layers:
	@sh tools/check_layers.sh


$(BUILD)/%.o: %.c $(BUILD)/.deps $(wildcard */*.h */*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Rebuilt whole, so objects of removed or renamed sources do not linger in it.
$(BUILD)/librcsim.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(RCSIM_BIN): $(BUILD)/sim/app/main.o $(BUILD)/librcsim.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(BUILD)/librcsim.a $(RCSIM_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< $(BUILD)/librcsim.a $(LDLIBS) $(shell pkg-config --libs cmocka)

# make run / make test build in parallel, one job per CPU (JOBS=1: serially).
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

run:
	@$(MAKE) --no-print-directory -j$(JOBS) all
	./rcsim run configs/default.cfg --out runs/default --force
	@echo; echo "== runs/default/summary.json =="; cat runs/default/summary.json

# Each test binary is one cmocka group; the runner prints a cmocka summary per
# group and a final 'N passed, N failed' line; exit status is non-zero on failure.
test: check-layers
	@$(MAKE) --no-print-directory -j$(JOBS) all $(TEST_BIN)
	@RCSIM=./rcsim BUILD=$(BUILD) sh tests/run_all.sh $(TEST_BIN)
	@$(MAKE) --no-print-directory fuzz-check

# Same suite, every object rebuilt with ASan + UBSan in build-asan/.
test-asan:
	$(MAKE) BUILD=build-asan RCSIM_BIN=build-asan/rcsim \
	  OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  test-asan-inner

test-asan-inner: $(BUILD)/.deps $(RCSIM_BIN) $(TEST_BIN)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  RCSIM=$(RCSIM_BIN) BUILD=$(BUILD) sh tests/run_all.sh $(TEST_BIN)

# The library's readers and writers under valgrind memcheck. valgrind cannot
# run AVX-512 code, so this build is -march=x86-64-v3 (AVX2) in build-vg/.
# VG_TESTS: the test binaries to run (all of them take about half an hour).
VG_TESTS ?= test_cfg test_idx test_checkpoint test_traces test_network test_strbuf test_gemm
test-valgrind:
	$(MAKE) BUILD=build-vg RCSIM_BIN=build-vg/rcsim ARCH=x86-64-v3 OPT=-O1 \
	  TEST_BIN="$(addprefix build-vg/tests/,$(VG_TESTS))" test-valgrind-inner

test-valgrind-inner: $(BUILD)/.deps $(RCSIM_BIN) $(TEST_BIN)
	@command -v valgrind >/dev/null || { echo "test-valgrind: valgrind missing (apt-get install valgrind)"; exit 1; }
	@RUNNER="valgrind -q --error-exitcode=99" RCSIM="valgrind -q --error-exitcode=99 $(RCSIM_BIN)" \
	  BUILD=$(BUILD) sh tests/run_all.sh $(TEST_BIN)

$(BUILD)/sim/app/main.o: sim/app/main.c
$(BUILD)/sim/app/main.o $(BUILD)/sim/app/report.o $(BUILD)/sim/app/report_traces.o: $(BUILD)/git_rev.stamp
$(BUILD)/git_rev.stamp: FORCE
	@mkdir -p $(BUILD); echo "$(GIT_REV)" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

# Data: MNIST is in ../shared/data/mnist; Fashion-MNIST comes from Debian.
FMNIST_DIR := /usr/share/datasets/fashion-mnist
data:
	@dpkg-query -W -f='$${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed" || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dataset-fashion-mnist; }
	@echo "Fashion-MNIST: $(FMNIST_DIR) (task.data_dir)"
	@ls ../shared/data/mnist/*.gz >/dev/null 2>&1 && echo "MNIST: ../shared/data/mnist" || echo "MNIST: ../shared/data/mnist not found"

# python3-h5py, numpy and matplotlib from Debian for tools/rcplot.py and the
# h5py read-back tests (the tests skip those checks without them).
plot-deps:
	@dpkg-query -W -f='$${Status}' python3-h5py python3-matplotlib 2>/dev/null | grep -q "install ok installed.*install ok installed" || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-h5py python3-numpy python3-matplotlib; }

plot: plot-deps
	/usr/bin/python3 tools/rcplot.py runs/spotting

# Benchmarks (not part of the tests: timing belongs here).
$(BUILD)/bench/%: bench/%.c $(BUILD)/librcsim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librcsim.a $(LDLIBS)

# bench/xsmm_shapes.c: libxsmm against rc_gemm (bench/README.md); only this
# bench links libxsmm, installed here when missing.
$(BUILD)/bench/xsmm_shapes: bench/xsmm_shapes.c $(BUILD)/librcsim.a
	@dpkg-query -W -f='$${Status}' libxsmm-dev 2>/dev/null | grep -q "install ok installed" || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libxsmm-dev; }
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/librcsim.a $(shell pkg-config --libs libxsmm) $(LDLIBS)

# bench/floors.c: every model type against its floor (sgemm and scatter rates
# measured in the same run); BENCH_THREADS (2), BENCH_SECONDS per row (3).
bench: all $(BUILD)/bench/floor $(BUILD)/bench/floors
	$(BUILD)/bench/floor 125 128 25 2
	$(BUILD)/bench/floors ../shared/data/mnist $(or $(BENCH_THREADS),2) $(or $(BENCH_SECONDS),3)

# Strong and weak scaling and the input-sparsity sweep (bench/scaling.sh):
# runs/scaling/scaling.csv and PNGs. QUICK=1 make scaling: a smoke test.
.PHONY: scaling
scaling: all $(BUILD)/bench/scaling
	BIN=$(BUILD)/bench/scaling sh bench/scaling.sh runs/scaling

# Event-driven LIF training against the dense step-by-step pass (temporal MNIST).
bench-snn: all $(BUILD)/bench/snn_dense
	$(BUILD)/bench/snn_dense ../shared/data/mnist "conv32k3p1 pool2 conv32k3p1 pool2 fc128 fc10" 2 400 2 1

# ---- fuzzing (tests/fuzz/, README "Fuzzing") ----------------------------------
# The library rebuilt with clang and coverage + ASan + UBSan in build-fuzz/,
# one libFuzzer binary per harness. clang and libclang-rt-14-dev come from
# Debian; without them fuzz-check says so and skips.
FUZZ_HARNESSES := cfg idx wav ckpt
FUZZ_SECONDS   ?= 120
FUZZ_CHECK_SECONDS ?= 10
FUZZ_BUILD     := build-fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS      := $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz_%)
.PHONY: fuzz fuzz-check fuzz-deps fuzz-bins

fuzz-deps:
	@command -v clang >/dev/null && dpkg-query -W -f='$${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq clang libclang-rt-14-dev; }

fuzz-bins:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang VECT= OPT="-O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN) -Wno-ignored-optimization-argument" \
	  $(FUZZ_BUILD)/.deps $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_BUILD)/librcsim.a
	clang $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/librcsim.a $(LDLIBS)

# make fuzz [FUZZ_SECONDS=3600] [FUZZ=idx]: new inputs go to build-fuzz/corpus/<h>/.
fuzz: fuzz-deps fuzz-bins
	@for h in $(or $(FUZZ),$(FUZZ_HARNESSES)); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$h tests/fuzz/regress/$$h; \
	  echo "== fuzz_$$h for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp $(FUZZ_BUILD)/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=2048 \
	    -dict=tests/fuzz/$$h.dict -artifact_prefix=tests/fuzz/regress/$$h/ -print_final_stats=1 \
	    $(FUZZ_BUILD)/corpus/$$h tests/fuzz/seeds/$$h tests/fuzz/regress/$$h 2>&1 | grep -E "^(#|Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" | tail -4 || exit 1; \
	done

fuzz-check:
	@if ! command -v clang >/dev/null || ! dpkg-query -W -f='$${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then \
	  echo "fuzz-check: skipped: clang or libclang-rt-14-dev missing (make fuzz-deps installs them)"; exit 0; fi; \
	$(MAKE) --no-print-directory fuzz-bins >/dev/null || exit 1; \
	fail=0; for h in $(FUZZ_HARNESSES); do \
	  tmp=$$(mktemp -d); mkdir -p tests/fuzz/regress/$$h; \
	  if ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp $(FUZZ_BUILD)/fuzz_$$h -max_total_time=$(FUZZ_CHECK_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=2048 \
	       -dict=tests/fuzz/$$h.dict -artifact_prefix=$$tmp/ $$tmp tests/fuzz/seeds/$$h tests/fuzz/regress/$$h >$$tmp/log 2>&1; then \
	    echo "fuzz-check $$h: ok, $$(grep -Eo '^#[0-9]+' $$tmp/log | tail -1 | tr -d '#') execs"; \
	  else echo "fuzz-check $$h: FAILED (new crash inputs: $$tmp)"; grep -E "ERROR|SUMMARY|abort|==" $$tmp/log | head -5; fail=1; continue; fi; \
	  rm -rf $$tmp; \
	done; exit $$fail

clean:
	rm -rf build build-asan build-fuzz rcsim
