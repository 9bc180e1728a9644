# flowprof: flow file -> resolve -> attach (BPF) -> collect -> model -> report
# (one folder per stage under user/: docs/architecture.md)
#
#   make          build build/flowprof
#   make demo     install what building and running the demo needs, build, run the
#                 demo services, profile, report
#   make check    install what is missing for the tests too, build, run every test
#   make bench    overhead, start-up, accuracy benchmarks (bench/results/, bench/README.md)

ARCH ?= $(shell uname -m)
BPF_ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(ARCH)))
BUILD := build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip

PKGS := libbpf libelf zlib yaml-0.1 json-c ncursesw libmicrohttpd libgvc libcurl capstone
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libmicrohttpd, libgvc and libcurl: their headers only. metrics_http.c
# loads the first when a server starts, graphviz_lazy.c the second when an
# HTML page lays out its graph, fleet/prom_http.c the third when `report
# --prometheus` asks Prometheus: linked, they would map GnuTLS, Graphviz and
# more (2.9 MiB of RSS, and some 4 MiB for libcurl) into every flowprof, the
# recording agent included.
PKG_LIBS = $(shell pkg-config --libs $(filter-out libmicrohttpd libgvc libcurl,$(PKGS)) 2>/dev/null)

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I$(BUILD) $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lstdc++ -lm
# flowprof itself takes libstdc++'s demangler (its only C++) from the static
# archive: the shared library would add 0.9 MiB to the agent's RSS. Tests and
# fuzz targets keep the shared one (libFuzzer links it too).
FLOWPROF_LDLIBS = $(filter-out -lstdc++,$(LDLIBS)) -Wl,-Bstatic -lstdc++ -Wl,-Bdynamic

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Every compile writes the headers it read to a .d file next to its object;
# the .d files are included at the end, so a header change rebuilds its users.
DEPFLAGS = -MMD -MP

# user/<stage>/*.c, one folder per pipeline stage (docs/architecture.md);
# user/wasm/ is the browser build's, never native.
USER_SRCS := $(sort $(filter-out user/wasm/%,$(wildcard user/*/*.c)))
# The core library: the flow file, the snapshot and the model, with what
# they take from base/ and the site classes' names (probe/site_class.c). No
# BPF, no /proc: the CLI, the unit tests and the fuzz targets link it, and
# the WebAssembly model is built from the same list (less the flow file).
CORE_SRCS := $(sort $(wildcard user/base/*.c user/flowfile/*.c user/snapshot/*.c user/model/*.c)) \
	user/probe/site_class.c
# Everything else but main.c, linked as objects before the library.
LIB_SRCS := $(filter-out user/cmd/main.c $(CORE_SRCS),$(USER_SRCS))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(filter-out $(CORE_SRCS),$(USER_SRCS)))
CORE_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
CORE_LIB := $(BUILD)/libflowprof_core.a
SAN_OBJS := $(patsubst user/%.c,$(BUILD)/san/%.o,$(LIB_SRCS))
SAN_CORE_OBJS := $(patsubst user/%.c,$(BUILD)/san/%.o,$(CORE_SRCS))
SAN_CORE_LIB := $(BUILD)/san/libflowprof_core.a
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TARGET_SRCS := $(sort $(wildcard tests/targets/*.c))
TARGET_BINS := $(patsubst tests/targets/%.c,$(BUILD)/targets/%,$(TARGET_SRCS))
# nested again with other first instructions, for the accuracy tests at every
# probe-site class: a 5-byte nop (-mnop-mcount: gcc's -pg hook as a nop, linked
# without -pg so nothing calls mcount), and endbr64 (-fcf-protection), which
# the kernel single-steps.
TARGET_BINS += $(BUILD)/targets/nested_nop5 $(BUILD)/targets/nested_endbr \
	$(BUILD)/targets/nested_canary
# The Go targets (test_go.py), with Debian's golang when it is installed
# (before `all:`, whose prerequisites are read where it stands).
GO ?= go
ifneq ($(shell command -v $(GO) 2>/dev/null),)
TARGET_BINS += $(BUILD)/targets/gohttp $(BUILD)/targets/gogrow
endif
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))
BENCH_SRCS := $(filter-out %.bpf.c,$(sort $(wildcard bench/*.c)))
BENCH_HANDLERS := 1000
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS)) $(BUILD)/bench/many_handlers

VMLINUX_DIR := $(BUILD)/vmlinux
VMLINUX := $(VMLINUX_DIR)/vmlinux.h
BPF_OBJ := $(BUILD)/flowprof.bpf.o
SKEL := $(BUILD)/flowprof.skel.h

.PHONY: all deps deps-demo demo check test unit bench clean install uninstall
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/flowprof $(TARGET_BINS) $(EXAMPLE_BINS)

# The Debian packages, by what they are for (scripts/install-deps.sh): the
# demo's are only the build's; the tests' tools (browsers, servers, JDK, Go)
# come with `make check`, or `make deps`.
deps:
	@scripts/install-deps.sh check

deps-demo:
	@scripts/install-deps.sh demo

# vmlinux.h from the running kernel's BTF when it has one, else the committed copy.
$(VMLINUX):
	@mkdir -p $(VMLINUX_DIR)
	@if [ -r /sys/kernel/btf/vmlinux ] && $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp 2>/dev/null; then \
		mv $@.tmp $@; \
	else \
		rm -f $@.tmp; echo "vmlinux.h: no kernel BTF, using vmlinux/$(ARCH)/vmlinux.h"; \
		cp vmlinux/$(ARCH)/vmlinux.h $@; \
	fi

$(BPF_OBJ): bpf/flowprof.bpf.c $(wildcard bpf/*.h) $(wildcard include/*.h) $(VMLINUX)
	$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) $(WARN) -Wno-unused-parameter \
		-Iinclude -I$(VMLINUX_DIR) -c $< -o $@

# The skeleton embeds the object without its DWARF (245 KB instead of 940 KB,
# which the agent maps): .BTF and .BTF.ext stay, for CO-RE and the maps.
$(BUILD)/flowprof.stripped.bpf.o: $(BPF_OBJ)
	$(LLVM_STRIP) -g $< -o $@

$(SKEL): $(BUILD)/flowprof.stripped.bpf.o
	$(BPFTOOL) gen skeleton $< name flowprof_bpf > $@

# The skeleton is order-only: the first build needs it, later ones rebuild
# what includes it (the .d files say which).
$(BUILD)/obj/%.o: user/%.c | $(SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/san/%.o: user/%.c | $(SKEL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

# ar from scratch, so that a removed source leaves no member behind.
$(CORE_LIB): $(CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(SAN_CORE_LIB): $(SAN_CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/flowprof: $(USER_OBJS) $(CORE_LIB)
	$(CC) $(CFLAGS) $(USER_OBJS) $(CORE_LIB) $(FLOWPROF_LDLIBS) -o $@

# Unit tests: cmocka, linked with every stage but main.c (the core library's
# sanitized build), under ASan + UBSan.
$(BUILD)/tests/%: tests/unit/%.c $(SAN_OBJS) $(SAN_CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -MF $@.d -MT $@ $< $(TEST_EXTRA_OBJS) $(SAN_OBJS) \
		$(SAN_CORE_LIB) $(LDLIBS) -lcmocka -o $@

# The round trip of the HTML page's model input also links the browser
# build's reader of it (user/wasm/model_input_reader.c), built natively.
$(BUILD)/tests/test_model_input: TEST_EXTRA_OBJS = $(BUILD)/san/wasm/model_input_reader.o
$(BUILD)/tests/test_model_input: $(BUILD)/san/wasm/model_input_reader.o

# Test targets keep their frame layout predictable; see tests/targets/README.md.
$(BUILD)/targets/%: tests/targets/%.c $(wildcard tests/targets/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Werror -fno-inline -fno-omit-frame-pointer -pthread $< -o $@ -lm

# The Go targets (test_go.py): the rule is below, with the other targets'.
$(BUILD)/targets/%: tests/targets/%.go
	@mkdir -p $(dir $@) $(BUILD)/go-cache
	GOCACHE=$(abspath $(BUILD)/go-cache) GOPATH=$(abspath $(BUILD)/go-path) \
		GO111MODULE=off $(GO) build -o $@ $<

$(BUILD)/targets/nested_nop5: tests/targets/nested.c $(wildcard tests/targets/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Werror -fno-inline -fno-omit-frame-pointer -pthread \
		-fno-pie -no-pie -pg -mfentry -mnop-mcount -c $< -o $@.o
	$(CC) -no-pie -pthread $@.o -o $@ -lm
	@rm -f $@.o

$(BUILD)/targets/nested_endbr: tests/targets/nested.c $(wildcard tests/targets/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Werror -fno-inline -fno-omit-frame-pointer -pthread \
		-fcf-protection=full $< -o $@ -lm

# Every function checks its stack canary before it returns, as Debian's
# packages build (-fstack-protector-strong): exits probed at the check
$(BUILD)/targets/nested_canary: tests/targets/nested.c $(wildcard tests/targets/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Werror -fno-inline -fno-omit-frame-pointer -pthread \
		-fstack-protector-all $< -o $@ -lm

# A C program that needs the C++ runtime only through a library it needs
# (test_faults_exceptions.py): its exceptions unwind through the C frames.
$(BUILD)/targets/libcxx_lib_user.so: tests/targets/cxx_lib_user_lib.cpp
	@mkdir -p $(dir $@)
	$(CXX) -O1 -g -Wall -Wextra -Werror -fPIC -shared $< -o $@

$(BUILD)/targets/cxx_lib_user: tests/targets/cxx_lib_user.c $(BUILD)/targets/libcxx_lib_user.so
	$(CC) -O1 -g -Wall -Wextra -Werror -fexceptions -fno-inline -fno-omit-frame-pointer $< \
		-o $@ -L$(BUILD)/targets -lcxx_lib_user -Wl,-rpath,'$$ORIGIN'

$(BUILD)/examples/%: examples/%.c $(wildcard examples/*.h)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -fno-inline -pthread $< -o $@ -lm

$(BUILD)/bench/%: bench/%.c include/site_class_funcs.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude -pthread $< -o $@ -lm

# The floor: empty uprobe programs, attached by bench_floor as single links,
# uprobe_multi or uprobe.session.
$(BUILD)/bench/floor.bpf.o: bench/floor.bpf.c $(VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) $(WARN) -Wno-unused-parameter \
		-I$(VMLINUX_DIR) -c $< -o $@

$(BUILD)/bench/floor.skel.h: $(BUILD)/bench/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(BUILD)/bench/bench_floor: bench/bench_floor.c $(BUILD)/bench/floor.skel.h include/uprobe_multi_link.h
	$(CC) $(CFLAGS) -I$(BUILD)/bench $< $(LDLIBS) -o $@

# A target with BENCH_HANDLERS functions, for attach/detach at scale.
$(BUILD)/bench/many_handlers.c: bench/gen-handlers.py
	@mkdir -p $(dir $@)
	python3 bench/gen-handlers.py $(BENCH_HANDLERS) $@

$(BUILD)/bench/many_handlers: $(BUILD)/bench/many_handlers.c
	$(CC) -O2 -g -Wall -Wextra -Werror $< -o $@

# ---- HTML report assets (report --html; views helper) ----------------------
# The page embeds its script and style and the capacity model compiled to
# WebAssembly (user/wasm/: model_wasm.c, the page's entry points,
# model_input_reader.c, its reader of the page's model input, and
# wasm_shim.c, what wasi-libc lacks, with the core library's sources but the
# flow file's, which needs libyaml), so its sliders run the very code of
# `flowprof report`. xxd -i turns each into a C array that html_report.c
# includes. Debian: clang, lld (wasm-ld), wasi-libc, libclang-rt-14-dev-wasm32, xxd.
WASM_CC ?= clang-14
WASM_LD ?= wasm-ld-14
WASM_FLAGS := --target=wasm32-wasi --sysroot=/nonexistent -isystem /usr/include/wasm32-wasi \
	-O2 -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Iuser -I$(BUILD)/wasm/inc \
	-include user/wasm/wasm_compat.h
WASM_SRCS := $(filter-out user/flowfile/%,$(CORE_SRCS)) $(sort $(wildcard user/wasm/*.c))
WASM_OBJS := $(patsubst user/%.c,$(BUILD)/wasm/obj/%.o,$(WASM_SRCS))
ASSETS := $(BUILD)/assets/model_wasm.h $(BUILD)/assets/report_js.h $(BUILD)/assets/report_css.h \
	$(BUILD)/assets/report_js_sha256.h

$(BUILD)/wasm/inc/json-c: # the snapshot stage's json-c header, without the rest of /usr/include
	@mkdir -p $(dir $@)
	ln -sfn $(shell pkg-config --variable=includedir json-c)/json-c $@

$(BUILD)/wasm/obj/%.o: user/%.c | $(BUILD)/wasm/inc/json-c
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_FLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/assets/model.wasm: $(WASM_OBJS)
	@mkdir -p $(dir $@)
	$(WASM_LD) --no-entry --gc-sections --strip-all -L/usr/lib/wasm32-wasi \
		-L$(shell $(WASM_CC) --print-resource-dir)/lib/wasi $^ -lc-printscan-long-double -lc \
		-lclang_rt.builtins-wasm32 -o $@

$(BUILD)/assets/model_wasm.h: $(BUILD)/assets/model.wasm
	{ echo 'static const unsigned char asset_model_wasm[] = {'; xxd -i < $<; echo '};'; } > $@

$(BUILD)/assets/report_%.h: user/report/assets/report.%
	@mkdir -p $(dir $@)
	{ echo 'static const unsigned char asset_report_$*[] = {'; xxd -i < $<; echo '};'; } > $@

# The page's Content-Security-Policy allows its one inline script by hash.
$(BUILD)/assets/report_js_sha256.h: user/report/assets/report.js
	@mkdir -p $(dir $@)
	printf '#define ASSET_REPORT_JS_SHA256 "%s"\n' \
		"$$(sha256sum < $< | cut -c1-64 | xxd -r -p | base64 -w0)" > $@

$(BUILD)/obj/report/html_report.o $(BUILD)/san/report/html_report.o \
$(BUILD)/fuzz/obj/report/html_report.o: $(ASSETS)
# ---- end of HTML report assets -----------------------------------------------

unit: $(UNIT_BINS)

# the build quiet (-s): the demo's own output is what the README shows
demo: deps-demo
	@echo "== Building flowprof and the demo services (make -s all)"
	@$(MAKE) -s --no-print-directory all
	@examples/run-demo.sh

check: deps
	@$(MAKE) --no-print-directory layout all unit fuzz-smoke
	@tests/run-tests.sh

# Each stage folder is included from outside only through its public header
# (user/X/X.h): scripts/check-layout.py says where it is not, and fails.
.PHONY: layout
layout:
	@python3 scripts/check-layout.py

test: check

# Fuzzing (fuzz/): libFuzzer targets over the userspace library, built with
# clang under ASan + UBSan. `make fuzz` runs each for FUZZ_SECONDS from the
# committed seed corpus (fuzz/run-fuzz.sh); `make fuzz-smoke` builds them for
# the short pass that make check runs (tests/e2e/test_fuzz_smoke.py).
.PHONY: fuzz fuzz-smoke
FUZZ_SECONDS ?= 600
FUZZ_CLANG ?= clang-14
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_OBJS := $(patsubst user/%.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_CORE_OBJS := $(patsubst user/%.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRCS))
FUZZ_CORE_LIB := $(BUILD)/fuzz/libflowprof_core.a

$(BUILD)/fuzz/obj/%.o: user/%.c | $(SKEL)
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(FUZZ_CORE_LIB): $(FUZZ_CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJS) $(FUZZ_CORE_LIB)
	$(FUZZ_CLANG) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $(DEPFLAGS) -MF $@.d -MT $@ $< \
		$(FUZZ_OBJS) $(FUZZ_CORE_LIB) $(LDLIBS) -o $@

fuzz-smoke: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) fuzz/run-fuzz.sh

# BENCH_ARGS: options for bench/bench.py, e.g. make bench BENCH_ARGS="--reps 3"
bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@bench/run-bench.sh $(BENCH_ARGS)

# Installs the binary, the man page and the bash completion under PREFIX
# (staged under DESTDIR for packaging): make install PREFIX=/usr DESTDIR=/tmp/pkg
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: $(BUILD)/flowprof
	install -D -m 0755 $(BUILD)/flowprof $(DESTDIR)$(BINDIR)/flowprof
	install -D -m 0644 man/flowprof.1 $(DESTDIR)$(MANDIR)/man1/flowprof.1
	install -D -m 0644 completions/flowprof.bash $(DESTDIR)$(BASHCOMPDIR)/flowprof

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/flowprof $(DESTDIR)$(MANDIR)/man1/flowprof.1 \
		$(DESTDIR)$(BASHCOMPDIR)/flowprof

clean:
	rm -rf $(BUILD)

# The headers each object, test and fuzz target was built from (DEPFLAGS).
-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/san/*/*.d $(BUILD)/fuzz/obj/*/*.d \
	$(BUILD)/wasm/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)
