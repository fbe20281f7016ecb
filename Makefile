# brook: build, test and install the library and its C API. Needs GNU make.
#
#   make                  release library, include/brook.h, C and C++ examples in build/
#   make test             everything CI checks (Rust lints and tests, header, C and C++ tests,
#                         install)
#   make install PREFIX=/opt/brook    (default /usr/local; DESTDIR is honoured)
#   make python           the Python package as a wheel with libbrook.so inside (build/python)
#   make demo | bench | fuzz | header | check-header | uninstall | clean

CARGO    ?= cargo
# Pinned tools: `make tools` (a step of `make test`) installs them into build/tools when the
# machine lacks them. cbindgen point releases change the header's text, so the version is
# exact: the first cbindgen of that version on PATH, in ~/.cargo/bin or in build/tools.
TOOLS := $(CURDIR)/build/tools
CBINDGEN_VERSION := 0.29.4
CBINDGEN ?= $(or $(shell for c in cbindgen $(HOME)/.cargo/bin/cbindgen $(TOOLS)/bin/cbindgen; do \
  $$c --version 2>/dev/null | grep -qx "cbindgen $(CBINDGEN_VERSION)" && { command -v $$c; break; }; \
  done),$(TOOLS)/bin/cbindgen)
CXX      ?= c++
PKG_CONFIG ?= pkg-config
PREFIX   ?= /usr/local
VECTORS  ?= ../shared/vectors/golden
TIMEOUT  ?= timeout 120
PYTHON   ?= python3
STRIP    ?= strip

BUILD   := build
CARGO_TARGET_DIR ?= target
RELEASE := $(CARGO_TARGET_DIR)/release
STATIC_LIB := $(RELEASE)/libbrook.a
SHARED_LIB := $(RELEASE)/libbrook.so
HEADER  := include/brook.h
HEADER_HPP := include/brook.hpp
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

# Every C file of ours builds with these (STYLE.md section 9).
C_STRICT := -std=c11 -Wall -Wextra -Werror -pedantic -g
C_FLAGS  := $(C_STRICT) -Iinclude
# And every C++ file of ours with these (brook.hpp is C++17).
CXX_STRICT := -std=c++17 -Wall -Wextra -Werror -pedantic -g -pthread
CXX_FLAGS  := $(CXX_STRICT) -Iinclude
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# What the static library needs from the system: `cargo rustc --release --lib --
# --print native-static-libs` (minus -lc, which cc adds).
STATIC_DEPS := -lssl -lcrypto -lgcc_s -lutil -lrt -lpthread -lm -ldl

# C tests and the arguments each one runs with.
C_TESTS := test_data test_golden test_endpoint test_publisher test_store test_metrics test_tls test_spool test_zeek_log
ARGS_test_data :=
ARGS_test_golden := $(VECTORS)
ARGS_test_endpoint :=
ARGS_test_publisher :=
ARGS_test_store :=
ARGS_test_metrics :=
ARGS_test_tls :=
ARGS_test_spool :=
ARGS_test_zeek_log := tests/data/zeek_logs/all_types.bin
# C++ tests of brook.hpp (tests/cpp/), which take no arguments.
CPP_TESTS := test_data test_endpoint test_store
EXAMPLES := event_demo poll_loop ping pong store
# C++ examples (cpp-examples/), built beside the C ones.
CPP_EXAMPLES := ping_pong
# Examples that end by themselves; ping and pong run together in c-examples/run-demo.sh,
# store's master and clone in c-examples/run-store-demo.sh.
RUN_EXAMPLES := event_demo poll_loop ping_pong

# Steps of `make test` share the terminal and the build directory: run them in order.
.NOTPARALLEL:
.PHONY: all lib header check-header test fmt-check clippy cargo-test header-standalone c-tests c-tests-asan \
        cpp-tests cpp-tests-asan examples run-examples install-test install uninstall demo bench fuzz \
        interop clean tools \
        python python-test python-bench

all: lib header examples

# cargo knows when the library is up to date; make always asks it.
lib:
	$(CARGO) build --release --lib

# For `make install` without `make` first; never rebuilt here, so `sudo make install`
# does not run cargo as root on a built tree.
$(STATIC_LIB) $(SHARED_LIB):
	$(CARGO) build --release --lib

# What `make test` needs beyond the Rust toolchain, a C compiler and Python: the pinned
# cbindgen (built with cargo) and pytest (from PyPI into build/tools/python, so that no
# system-wide install is needed), each only when missing.
tools:
	@$(CBINDGEN) --version 2>/dev/null | grep -qx "cbindgen $(CBINDGEN_VERSION)" \
	  || $(CARGO) install -q cbindgen --version $(CBINDGEN_VERSION) --locked --root $(TOOLS)
	@$(PYTHON) -c 'import pytest' 2>/dev/null \
	  || PYTHONPATH=$(TOOLS)/python $(PYTHON) -c 'import pytest' 2>/dev/null \
	  || $(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore --target $(TOOLS)/python pytest

header:
	$(CBINDGEN) --quiet --config cbindgen.toml --crate brook --output $(HEADER)

check-header:
	@$(CBINDGEN) --quiet --config cbindgen.toml --crate brook --output $(HEADER) --verify \
	  || { echo "$(HEADER) is out of date: run 'make header' and commit it" >&2; exit 1; }
	@echo "$(HEADER) matches the source"

test: tools fmt-check clippy cargo-test lib check-header header-standalone c-tests c-tests-asan \
      cpp-tests cpp-tests-asan run-examples install-test python-test
	@echo "make test: all passed"

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

cargo-test:
	$(CARGO) test

# The header stands alone: as C99, as C++, and included twice; so does brook.hpp, as C++17.
header-standalone:
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c $(HEADER)
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ $(HEADER)
	$(CC) $(C_FLAGS) -fsyntax-only tests/c/header_twice.c
	$(CXX) $(CXX_STRICT) -fsyntax-only -x c++ $(HEADER_HPP)
	$(CXX) $(CXX_FLAGS) -fsyntax-only tests/cpp/header_twice.cpp
	@echo "$(HEADER) compiles alone as C99 and C++, and twice in one file; $(HEADER_HPP) as C++17 too"

# $(call run_each,DIR): runs every C test built in DIR, stopping at the first failure.
run_each = $(foreach t,$(C_TESTS),$(TIMEOUT) $(1)/$(t) $(ARGS_$(t)) &&) true

# Each test linked against the static and against the shared library.
c-tests: lib
	@mkdir -p $(BUILD)/static $(BUILD)/shared
	$(foreach t,$(C_TESTS),$(CC) $(C_FLAGS) -o $(BUILD)/static/$(t) tests/c/$(t).c \
	  $(STATIC_LIB) $(STATIC_DEPS) &&) true
	$(foreach t,$(C_TESTS),$(CC) $(C_FLAGS) -o $(BUILD)/shared/$(t) tests/c/$(t).c \
	  -L$(RELEASE) -Wl,-rpath,$(abspath $(RELEASE)) -lbrook &&) true
	$(call run_each,$(BUILD)/static)
	$(call run_each,$(BUILD)/shared)

# Once more under AddressSanitizer (with LeakSanitizer) and UBSan. The Rust library uses
# the system malloc, so leaks and overflows on either side of the ABI show up.
c-tests-asan: lib
	@mkdir -p $(BUILD)/asan
	$(foreach t,$(C_TESTS),$(CC) $(C_FLAGS) $(SANITIZE) -o $(BUILD)/asan/$(t) tests/c/$(t).c \
	  $(STATIC_LIB) $(STATIC_DEPS) &&) true
	$(call run_each,$(BUILD)/asan)

# The C++ tests, as the C ones: linked against the static and against the shared library,
# then once more under AddressSanitizer and UBSan.
run_each_cpp = $(foreach t,$(CPP_TESTS),$(TIMEOUT) $(1)/$(t) &&) true

cpp-tests: lib
	@mkdir -p $(BUILD)/cpp/static $(BUILD)/cpp/shared
	$(foreach t,$(CPP_TESTS),$(CXX) $(CXX_FLAGS) -o $(BUILD)/cpp/static/$(t) tests/cpp/$(t).cpp \
	  $(STATIC_LIB) $(STATIC_DEPS) &&) true
	$(foreach t,$(CPP_TESTS),$(CXX) $(CXX_FLAGS) -o $(BUILD)/cpp/shared/$(t) tests/cpp/$(t).cpp \
	  -L$(RELEASE) -Wl,-rpath,$(abspath $(RELEASE)) -lbrook &&) true
	$(call run_each_cpp,$(BUILD)/cpp/static)
	$(call run_each_cpp,$(BUILD)/cpp/shared)

cpp-tests-asan: lib
	@mkdir -p $(BUILD)/cpp/asan
	$(foreach t,$(CPP_TESTS),$(CXX) $(CXX_FLAGS) $(SANITIZE) -o $(BUILD)/cpp/asan/$(t) tests/cpp/$(t).cpp \
	  $(STATIC_LIB) $(STATIC_DEPS) &&) true
	$(call run_each_cpp,$(BUILD)/cpp/asan)

examples: lib
	@mkdir -p $(BUILD)/examples
	$(foreach e,$(EXAMPLES),$(CC) $(C_FLAGS) -o $(BUILD)/examples/$(e) c-examples/$(e).c \
	  $(STATIC_LIB) $(STATIC_DEPS) &&) true
	$(foreach e,$(CPP_EXAMPLES),$(CXX) $(CXX_FLAGS) -o $(BUILD)/examples/$(e) cpp-examples/$(e).cpp \
	  $(STATIC_LIB) $(STATIC_DEPS) &&) true

run-examples: examples
	$(foreach e,$(RUN_EXAMPLES),$(TIMEOUT) $(BUILD)/examples/$(e) > $(BUILD)/examples/$(e).out &&) true
	$(TIMEOUT) c-examples/run-demo.sh $(BUILD)/examples > $(BUILD)/examples/run-demo.out
	$(TIMEOUT) c-examples/run-demo.sh $(BUILD)/examples 3 --set broker.disable-ssl=true \
	  > $(BUILD)/examples/run-demo-plain.out
	$(TIMEOUT) c-examples/run-tls-demo.sh $(BUILD)/examples > $(BUILD)/examples/run-tls-demo.out
	$(TIMEOUT) c-examples/run-store-demo.sh $(BUILD)/examples > $(BUILD)/examples/run-store-demo.out
	$(TIMEOUT) $(BUILD)/examples/ping_pong --count 3 --set broker.disable-ssl=true \
	  > $(BUILD)/examples/ping_pong-plain.out
	@echo "examples ran: $(RUN_EXAMPLES) (ping_pong over TLS and plain TCP), ping against pong (anonymous TLS, plain TCP, certificates), store master and clone"

# ping against pong: two processes peering over 127.0.0.1.
demo: examples
	$(TIMEOUT) c-examples/run-demo.sh $(BUILD)/examples

install: $(STATIC_LIB) $(SHARED_LIB)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/libbrook.a
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/libbrook.so
	install -m 644 $(HEADER) $(DESTDIR)$(PREFIX)/include/brook.h
	install -m 644 $(HEADER_HPP) $(DESTDIR)$(PREFIX)/include/brook.hpp
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@STATIC_DEPS@|$(STATIC_DEPS)|g' brook.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/brook.pc
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/brook.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libbrook.a $(DESTDIR)$(PREFIX)/lib/libbrook.so \
	      $(DESTDIR)$(PREFIX)/include/brook.h $(DESTDIR)$(PREFIX)/include/brook.hpp \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/brook.pc

# Installs into a scratch prefix and builds a C and a C++ program the way a user would:
# with only pkg-config's flags, against the installed headers and shared library.
INSTALL_TEST_PREFIX := $(abspath $(BUILD)/install-test)
install-test: lib
	rm -rf $(INSTALL_TEST_PREFIX)
	$(MAKE) --no-print-directory install PREFIX=$(INSTALL_TEST_PREFIX)
	$(CC) $(C_STRICT) -o $(BUILD)/pkgconfig_test tests/c/pkgconfig_test.c \
	  $$(PKG_CONFIG_PATH=$(INSTALL_TEST_PREFIX)/lib/pkgconfig $(PKG_CONFIG) --cflags --libs brook)
	LD_LIBRARY_PATH=$(INSTALL_TEST_PREFIX)/lib $(TIMEOUT) $(BUILD)/pkgconfig_test
	$(CXX) $(CXX_STRICT) -o $(BUILD)/pkgconfig_test_cpp tests/cpp/pkgconfig_test.cpp \
	  $$(PKG_CONFIG_PATH=$(INSTALL_TEST_PREFIX)/lib/pkgconfig $(PKG_CONFIG) --cflags --libs brook)
	LD_LIBRARY_PATH=$(INSTALL_TEST_PREFIX)/lib $(TIMEOUT) $(BUILD)/pkgconfig_test_cpp

# The Python package: a wheel with the library inside, built by python/_build/brook_build.py
# (no setuptools, nothing downloaded). The library loses its debug info on the way.
PY_BUILD := $(BUILD)/python
PY_LIB   := $(PY_BUILD)/lib/libbrook.so
PY_VENV  := $(PY_BUILD)/venv

python: lib
	@mkdir -p $(dir $(PY_LIB))
	cp $(SHARED_LIB) $(PY_LIB)
	$(STRIP) --strip-debug $(PY_LIB)
	rm -f $(PY_BUILD)/brook-*.whl
	BROOK_LIBRARY=$(abspath $(PY_LIB)) $(PYTHON) -m pip wheel -q --no-deps --no-build-isolation \
	  -w $(PY_BUILD) ./python
	@echo "built $$(ls $(PY_BUILD)/brook-*.whl)"

# pytest against the wheel installed in a scratch virtualenv, as a user gets it: run from
# build/python, so that the sources in python/ are not what is imported. pytest comes from
# the system's site-packages (.ci/run installs it).
python-test: python examples
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv --without-pip --system-site-packages $(PY_VENV)
	$(PY_VENV)/bin/python -m pip install -q --no-index --no-deps $(PY_BUILD)/brook-*.whl
	cd $(PY_BUILD) && env -u BROOK_LIBRARY BROOK_EXAMPLES=$(abspath $(BUILD)/examples) \
	  PYTHONPATH=$(TOOLS)/python \
	  BROOK_VECTORS=$(abspath $(VECTORS)) timeout 600 $(abspath $(PY_VENV))/bin/python \
	  -m pytest -q -p no:cacheprovider $(abspath python/tests)

# A Python subscriber receiving in batches from a C publisher (python/bench/).
python-bench: python
	$(CC) $(C_FLAGS) -O2 -o $(PY_BUILD)/publisher python/bench/publisher.c $(STATIC_LIB) $(STATIC_DEPS)
	BROOK_LIBRARY=$(abspath $(PY_LIB)) PYTHONPATH=python $(PYTHON) python/bench/bench_subscriber.py \
	  --publisher $(PY_BUILD)/publisher --count 1000000 --runs 3

# Codec rates, then two processes over loopback (about two minutes; BROOK_BENCH_ONLY=abcd
# picks scenarios, BROOK_BENCH_FLOOD_SECS shortens the flood), stores, and the fan-in of
# workers' log writes into one logger, with the logger killed and restarted (about half a
# minute; BROOK_FANIN_TOTAL sets the writes of each throughput run).
bench:
	$(CARGO) bench --bench codec
	$(CARGO) bench --bench net
	$(CARGO) bench --bench store
	$(CARGO) bench --bench fanin
	$(MAKE) --no-print-directory python-bench

# Checks against a real Broker through its Python bindings (skipped when `import broker`
# fails) and a real Zeek (skipped without $(ZEEK)), both at their defaults (TLS);
# INTEROP_ARGS=--plain runs both with TLS disabled. See tests/interop/README.md (e.g.
# PYTHONPATH=<broker build>/python).
ZEEK ?= ../peers/zeek/bin/zeek
interop:
	$(CARGO) build --release
	$(CARGO) build --release --example store_node
	python3 tests/interop/broker_interop.py $(INTEROP_ARGS)
	ZEEK=$(ZEEK) python3 tests/interop/zeek_interop.py $(INTEROP_ARGS)
	python3 tests/interop/broker_suite.py

fuzz:
	./fuzz/run.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
