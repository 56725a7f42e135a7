# CrowdProve: the index of what one can do. `make demo` and `make test` are the README's two
# commands; each installs what it needs from package.json / Cargo.toml first.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := node_modules/.bin
FORGE := $(BIN)/forge
STAMP := node_modules/.crowdprove-setup

.PHONY: help setup build bindings test test-contracts test-rust demo demo-contract bench gpu-bundle sim sim-traces soak duty timing install fmt lint clean
.DEFAULT_GOAL := help

## help: this index (every target with a `## name:` line above it)
help:
	@echo "CrowdProve: make <target>"
	@echo
	@sed -n 's/^## \([a-z-]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 18

## setup: install forge, anvil, cast, solcjs, OpenZeppelin, playwright-core (npm ci), a Vulkan driver for the GPU tests, Chromium for the status page test and PostgreSQL for the job queue's
setup: $(STAMP)
	@tools/install-vulkan.sh
	@tools/install-chromium.sh
	@tools/install-postgres.sh

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	$(FORGE) --version | head -1
	$(BIN)/anvil --version | head -1
	$(BIN)/cast --version | head -1
	node tools/solc --version | tail -1
	touch $@

## build: compile the contracts and the Rust workspace
build: bindings
	cargo build --workspace

## bindings: refresh bindings/artifacts/ (ABI and bytecode the Rust side uses) from forge's out/
bindings: setup
	$(FORGE) build
	node tools/export-artifacts.js

## test: everything CI runs: formatting, forge unit/fuzz/invariant/gas tests, cargo tests
# The contracts' tests run while the Rust workspace builds (about a third of the build's time on
# 2 cores); their output follows the build's, and either failing fails the target.
test: setup
	@mkdir -p target
	( $(MAKE) --no-print-directory test-contracts > target/test-contracts.log 2>&1; \
	  echo $$? > target/test-contracts.rc ) & \
	cargo test --workspace --no-run; \
	wait; cat target/test-contracts.log; test "$$(cat target/test-contracts.rc)" = 0
	cargo test --workspace
	# The GPU kernels again through wgpu's GL backend (naga writes GLSL, not SPIR-V, for it):
	# Mesa's llvmpipe here, the fallback on machines without Vulkan, Metal or DX12.
	WGPU_BACKEND=gl cargo test -p crowdprove-gpu --test bit_exact

test-contracts: setup
	$(FORGE) fmt --check
	$(FORGE) test --no-match-contract CoordinatorGasTest
	# Gas is counted per transaction only when each call is its own transaction (--isolate).
	$(FORGE) test --match-contract CoordinatorGasTest --isolate -vv

test-rust: setup
	cargo test --workspace

## demo: a local devnet (anvil, contracts, relayer, 4 prover clients) proving a batch of 8 chunks;
## pass options with DEMO_ARGS, e.g. make demo DEMO_ARGS="--hoarders 1 --json docs/results/devnet.json"
DEMO_ARGS ?=
demo: setup
	cargo run --quiet -p crowdprove -- devnet --sequential $(DEMO_ARGS)

## demo-contract: one job's life cycle against the contract alone, with cast
demo-contract: setup
	bash tools/demo-contract.sh

## bench: print the numbers behind our claims (gas per proven job; prove and verify times; CPU and GPU side by side)
bench: setup
	$(FORGE) test --match-contract CoordinatorGasTest --isolate -vv
	cargo bench -p crowdprove-circuits --bench prove -- small default paper --jobs 2 --out docs/results/circuits.md
	cargo bench -p crowdprove-gpu --bench merkle -- small default paper --out docs/results/gpu.md
	cargo run --release --quiet -p crowdprove-prover -- bench --params default --jobs 2 --backend gpu
	cargo bench -p crowdprove-relayer --bench throughput -- --proofs 1000 --out docs/results/relayer.md

## gpu-bundle: release binaries and Debian's Vulkan loader in .gpu-run/, for tools/device-gpu-bench.sh on a GPU machine
gpu-bundle: setup
	cargo build --release -p crowdprove-prover
	cargo bench -p crowdprove-gpu --bench merkle --no-run
	rm -rf .gpu-run && mkdir -p .gpu-run
	cp target/release/crowdprove-prover .gpu-run/
	cp "$$(ls -t target/release/deps/merkle-* | grep -v '\.d$$' | head -1)" .gpu-run/merkle
	cd .gpu-run && apt-get download libvulkan1 >/dev/null
	du -sh .gpu-run

## sim: the simulator: the paper's Tables 2 and 3 and costs, then policies under faults,
## then the reassignment-rule study (tables and plots in docs/results/sim-*.{md,svg,png});
## then a 1M-job, 100k-prover scale run
# The dev profile builds the simulator and its dependencies at opt-level 3 (Cargo.toml).
SIM := cargo run --quiet -p crowdprove-sim --
sim:
	$(SIM) paper --out docs/results
	$(SIM) compare --out docs/results
	$(SIM) study --out docs/results
	$(SIM) scale --jobs 1000000 --provers 100000
	$(SIM) scale --jobs 1000000 --provers 100000 --aggregation

## soak: the relayer crash soak, 20 rounds (make test runs 3): SIGKILLed from outside and at
## its crash points, restarted, sometimes without its database; prints the counts (the whole
## output in target/soak.log, the run's logs in the devnet directory it names)
SOAK_ROUNDS ?= 20
soak: setup
	SOAK_ROUNDS=$(SOAK_ROUNDS) E2E_KEEP=1 cargo test -p crowdprove --test e2e crash_soak -- --nocapture 2>&1 \
		| tee target/soak.log | grep -E "crash soak:|devnet directory|test result|panicked|FAILED"

## duty: one prover proving a batch of 20 chunks (41 jobs, default parameters) on a devnet,
## its duty cycle next to the time work was there; then the same with the relayer SIGKILLed 60 s
## in and restarted 30 s later (docs/results/prover.md)
duty: setup
	cargo run --quiet -p crowdprove -- devnet --provers 1 --chunks 20 --sequential --dir target/duty \
		--json docs/results/prover-duty.json
	cargo run --quiet -p crowdprove -- devnet --provers 1 --chunks 20 --relayer-outage 60:30 \
		--dir target/duty-outage --json docs/results/prover-outage.json

## timing: where a proof's time goes, step by step (plonky2's timing tree) for each parameter
## set (docs/results/timing.md); choose sets with TIMING_SETS="small default"
TIMING_SETS ?= small default paper
timing:
	cargo run --quiet -p crowdprove-circuits --features timing --example timing -- $(TIMING_SETS) \
		--out docs/results/timing.md

## sim-traces: re-record the traces that the differential forge test replays
sim-traces:
	cargo run --quiet -p crowdprove-sim -- traces --out contracts/test/traces

## install: install crowdprove-prover and crowdprove-relayer into ~/.cargo/bin. cargo install
## ignores .cargo/config.toml, so the plonky2 field crate's RUSTC_BOOTSTRAP is set here.
# Built on the machine it will run on, so for its CPU: 3-7% faster proofs (docs/results/cpu-native.md).
install: setup
	RUSTC_BOOTSTRAP=plonky2_field RUSTFLAGS="-C target-cpu=native" cargo install --locked --path prover-client
	RUSTC_BOOTSTRAP=plonky2_field RUSTFLAGS="-C target-cpu=native" cargo install --locked --path relayer

## fmt: format Solidity and Rust
fmt: setup
	$(FORGE) fmt
	cargo fmt --all

## lint: formatting checks, forge lint, clippy with warnings as errors
lint: setup
	$(FORGE) fmt --check
	$(FORGE) lint
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

## clean: delete build outputs (forge's out/ and cache/, cargo's target/)
clean:
	rm -rf out cache broadcast target
