# siteledger — build, test, demo, bench, install.
#
#   make            build the libraries and programs into $(BUILD)/
#   make test       install missing Debian packages, build, run every test (plain and ASan+UBSan)
#   make demo       install missing packages, build, run the demo scenario
#   make bench      run the benchmarks and write docs/benchmarks.md
#   make fuzz       run each fuzz target under libFuzzer for FUZZ_SECONDS
#   make soak       run simulator seeds (5 nodes, every fault) for SOAK_SECONDS (default 600)
#   make install    install programs into $(DESTDIR)$(PREFIX)/bin
#
# Sources are found by directory, so a new .c file in a module folder needs no Makefile change.

PREFIX ?= /usr/local
BUILD ?= build
SAN ?= 0
CC ?= cc
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 600

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef
CPPFLAGS += -I. -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 $(WARNINGS) -fno-strict-aliasing -MMD -MP
LDFLAGS ?=

ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ifneq ($(PLANT),)
# Planted consensus bugs for the simulator's checker test (issue 3); never in a release build.
CPPFLAGS += -DSL_PLANT_BUG_$(PLANT)=1
endif

LIBS_CORE := -llmdb -lsodium -lmsgpackc -lpthread
LIBS_NODE := -luv -lnanomsg -lmicrohttpd
# EPCIS import/export (epcis/): the only module that links jansson and libxml2.
EPCIS_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
LIBS_EPCIS := -ljansson -lxml2

CORE_SRC := $(wildcard util/*.c crypto/*.c store/*.c ledger/*.c)
RAFT_SRC := $(wildcard consensus/*.c)
REPLICA_SRC := $(wildcard replica/*.c)
CLI_SRC := $(wildcard cli/*.c)
EPCIS_SRC := $(wildcard epcis/*.c)
QUERY_SRC := $(wildcard query/*.c)
SIM_SRC := $(wildcard simulations/*.c)
NODE_SRC := $(wildcard node/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_CORE := $(BUILD)/libsiteledger.a
LIB_RAFT := $(BUILD)/libslraft.a
LIB_EPCIS := $(BUILD)/libslepcis.a
LIB_QUERY := $(BUILD)/libslquery.a
LIB_REPLICA := $(BUILD)/libslreplica.a
PROGRAMS := $(BUILD)/bin/siteledger
ifneq ($(SIM_SRC),)
PROGRAMS += $(BUILD)/bin/siteledger-sim
endif
ifneq ($(NODE_SRC),)
PROGRAMS += $(BUILD)/bin/siteledgerd
endif
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# Consensus tests link nothing but the Raft core and libc: proof of the dependency rule.
RAFT_TEST_BINS := $(filter $(BUILD)/tests/test_consensus%,$(UNIT_BINS))
EPCIS_TEST_BINS := $(filter $(BUILD)/tests/test_epcis%,$(UNIT_BINS))
# Node tests link the node's objects (without its main) and libuv/nanomsg.
NODE_TEST_BINS := $(filter $(BUILD)/tests/test_node%,$(UNIT_BINS))
# Benchmark plumbing tests link the load drivers' shared objects (bench/load.c, bench/http.c).
BENCH_TEST_BINS := $(filter $(BUILD)/tests/test_bench%,$(UNIT_BINS))
CORE_TEST_BINS := $(filter-out $(RAFT_TEST_BINS) $(EPCIS_TEST_BINS) $(NODE_TEST_BINS) $(BENCH_TEST_BINS),$(UNIT_BINS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test unit-bins demo bench fuzz soak install clean
all: $(LIB_CORE) $(LIB_RAFT) $(LIB_REPLICA) $(LIB_EPCIS) $(LIB_QUERY) $(PROGRAMS)

deps:
	@bash scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_CORE): $(call obj,$(CORE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB_RAFT): $(call obj,$(RAFT_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The replica glue (consensus + store + ledger); linked before the core and raft archives.
$(LIB_REPLICA): $(call obj,$(REPLICA_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(call obj,$(EPCIS_SRC)): CPPFLAGS += $(EPCIS_CFLAGS)
$(LIB_EPCIS): $(call obj,$(EPCIS_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The read commands' queries (query/): run by the CLI on --data and by the node for --node.
$(call obj,query/epcis.c): CPPFLAGS += $(EPCIS_CFLAGS)
$(LIB_QUERY): $(call obj,$(QUERY_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The CLI speaks the node's client protocol (node/proto.c, proto_admin.c; no libuv) over nanomsg for --node ADDR.
$(BUILD)/bin/siteledger: $(call obj,$(CLI_SRC) $(wildcard node/proto.c node/proto_admin.c)) $(LIB_QUERY) $(LIB_EPCIS) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EPCIS) $(LIBS_CORE) -lnanomsg

$(BUILD)/bin/siteledger-sim: $(call obj,$(SIM_SRC)) $(LIB_REPLICA) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

$(BUILD)/bin/siteledgerd: $(call obj,$(NODE_SRC)) $(LIB_QUERY) $(LIB_EPCIS) $(LIB_REPLICA) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_NODE) $(LIBS_EPCIS) $(LIBS_CORE)

$(RAFT_TEST_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(CORE_TEST_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_REPLICA) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

$(NODE_TEST_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(filter-out node/main.c,$(NODE_SRC))) \
		$(LIB_QUERY) $(LIB_EPCIS) $(LIB_REPLICA) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_NODE) $(LIBS_EPCIS) $(LIBS_CORE)

$(call obj,$(filter tests/unit/test_epcis%,$(UNIT_SRC))): CPPFLAGS += $(EPCIS_CFLAGS)
$(EPCIS_TEST_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_EPCIS) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EPCIS) $(LIBS_CORE)

# The EPCIS fuzz target also links the EPCIS library and its parsers.
$(BUILD)/obj/tests/fuzz/fuzz_epcis.o: CPPFLAGS += $(EPCIS_CFLAGS)
$(BUILD)/fuzz/fuzz_epcis: $(BUILD)/obj/tests/fuzz/fuzz_epcis.o $(BUILD)/obj/tests/fuzz/driver.o $(LIB_EPCIS) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EPCIS) $(LIBS_CORE)

# The bundle fuzz target links the auditor's bundle checks (cli/bundle.c, cli/bundle_keys.c).
$(BUILD)/fuzz/fuzz_bundle: $(BUILD)/obj/tests/fuzz/fuzz_bundle.o $(BUILD)/obj/tests/fuzz/driver.o \
		$(call obj,cli/bundle.c cli/bundle_keys.c) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

# Fuzz targets, built with a standalone driver that replays tests/fuzz/corpus/<name>/ and a bounded
# number of seeded mutations (so `make test` exercises them without libFuzzer).
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/driver.o $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_REPLICA) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

# The simulator benchmark links the simulator's objects except its main().
$(BUILD)/bench/bench_sim: $(BUILD)/obj/bench/bench_sim.o $(call obj,$(filter-out simulations/main.c,$(SIM_SRC))) \
		$(LIB_REPLICA) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

# Cluster load drivers (scripts/bench.sh): closed-loop client threads (bench/load.c); bench_cluster
# speaks the node's client protocol (node/proto*.c, as the CLI) over nanomsg, bench_etcd HTTP/1.1 to etcd.
BENCH_LOAD_OBJ := $(call obj,bench/load.c bench/http.c)
$(BUILD)/bench/bench_cluster: $(BUILD)/obj/bench/bench_cluster.o $(BENCH_LOAD_OBJ) \
		$(call obj,$(wildcard node/proto.c node/proto_*.c)) $(LIB_CORE) $(LIB_RAFT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE) -lnanomsg -lpthread

$(BUILD)/bench/bench_etcd: $(BUILD)/obj/bench/bench_etcd.o $(BENCH_LOAD_OBJ) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

$(BENCH_TEST_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BENCH_LOAD_OBJ) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

# Integration-test helpers (not tests themselves: run-tests.sh runs only tests/test_*).
ITEST_BINS := $(BUILD)/itest/events_sub
# tests/integration/test_bench.sh drives a small cluster with the benchmark's load drivers.
ITEST_BINS += $(BUILD)/bench/bench_cluster $(BUILD)/bench/bench_etcd
# tests/integration/test_audit.sh audits an export of 20000 records made by bench_audit.
ITEST_BINS += $(BUILD)/bench/bench_audit
$(BUILD)/itest/events_sub: $(BUILD)/obj/tests/integration/events_sub.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lnanomsg

unit-bins: all $(UNIT_BINS) $(FUZZ_BINS) $(ITEST_BINS)

test: deps
	$(MAKE) --no-print-directory unit-bins
	$(MAKE) --no-print-directory BUILD=build-san SAN=1 unit-bins
	@bash scripts/run-tests.sh build build-san

demo: deps
	$(MAKE) --no-print-directory all
	@bash scripts/demo.sh $(BUILD)
	@bash scripts/demo-cluster.sh $(BUILD)

bench: deps
	$(MAKE) --no-print-directory all $(BENCH_BINS)
	@bash scripts/bench.sh $(BUILD)

# libFuzzer builds (clang) in build-fuzz/; corpus grows in build-fuzz/corpus/<name>/.
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

# As many simulator seeds as SOAK_SECONDS allow (docs/simulation.md records the counts).
soak: deps
	$(MAKE) --no-print-directory $(BUILD)/bin/siteledger-sim
	@bash scripts/sim-soak.sh $(BUILD) $(SOAK_SECONDS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz build-*

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
