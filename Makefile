# h1c - plain GNU make. User CFLAGS/LDFLAGS add to ours.
#
#   make                 libraries and programs under build/
#   make check           every test, with a pass/fail summary
#   make deps            install (apt-get) what the tests need, if missing
#   make sanitize        the tests under AddressSanitizer + UBSan
#   make fuzz FUZZ_SECONDS=N   libFuzzer targets (clang)
#   make lint            cppcheck, clang-tidy and scan-build, findings fail
#   make valgrind        the unit tests under valgrind (errors and leaks fail)
#   make coverage        line and branch coverage of lib/ (gcovr)
#   make torture         allocation-failure torture of the soak workload
#   make interop         the interop matrix alone: real servers and proxies from Debian
#                        (H1C_INTEROP=0 skips it inside make check)
#   make bench           parser benchmark against picohttpparser, llhttp, http-parser,
#                        then end to end against libcurl, a raw-socket floor and wrk,
#                        then pipelining against servers without TCP_NODELAY,
#                        then 1 to 10,000 connections against libcurl multi
#                        (bench-parse, bench-e2e E2E_REQUESTS=N, bench-nodelay,
#                        bench-scale to run one)
#   make demo            fetch from the loopback origin over one kept-alive connection
#   make install / uninstall   PREFIX DESTDIR LIBDIR INCLUDEDIR MANDIR

CC ?= cc
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BINDIR ?= $(PREFIX)/bin
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
SAN_CC ?= $(CC)

VERSION := $(shell sed -n 's/^\#define H1C_VERSION_STRING "\(.*\)"/\1/p' include/h1c.h)
MAJOR := $(shell sed -n 's/^\#define H1C_VERSION_MAJOR \([0-9]*\)/\1/p' include/h1c.h)

WARN = -Wall -Wextra -Wpedantic -Werror
CSTD ?= c11
H1C_CFLAGS = -std=$(CSTD) -O2 $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude
# The built-in loop (h1c_client_run, h1c_client_fetch): epoll on Linux;
# LOOP=poll builds the portable poll(2) loop instead.
LOOP ?= epoll
ifeq ($(LOOP),poll)
H1C_CFLAGS += -DH1C_USE_POLL
endif
LIB_CFLAGS = $(H1C_CFLAGS) -fPIC -fvisibility=hidden

B = build
LIB_SRC = lib/error.c lib/headers.c lib/parse.c lib/framing.c lib/body.c lib/reader.c lib/url.c \
          lib/conn.c lib/transport.c lib/timer.c lib/request.c lib/pool.c lib/interest.c \
          lib/bufs.c lib/dial.c lib/cx.c lib/exchange.c lib/dispatch.c lib/loop.c lib/client.c \
          lib/fetch.c
# The MSN gateway module is optional: WITH_MSNGW=0 leaves it out.
WITH_MSNGW ?= 1
ifeq ($(WITH_MSNGW),1)
LIB_SRC += lib/msngw.c
endif
LIB_OBJ = $(LIB_SRC:lib/%.c=$(B)/obj/%.o)
PROGS = $(B)/h1c-decode $(B)/h1c-get
ifeq ($(WITH_MSNGW),1)
PROGS += $(B)/msn-gateway
endif
EXAMPLES = $(B)/io-counting $(B)/async-get $(B)/epoll-get
# libevent is a dependency of one example only, built when it is present
# (checked by a sub-make, so that `make deps check` sees what deps installed).
HAVE_LIBEVENT = $(shell pkg-config --exists libevent 2>/dev/null && echo 1)
HAVE_OPENSSL = $(shell pkg-config --exists openssl 2>/dev/null && echo 1)
HAVE_LIBUV = $(shell pkg-config --exists libuv 2>/dev/null && echo 1)
# The connection manager's tests, one file per room of lib/ (client.c's
# face, then the rooms below it), sharing test/unit/client_fixture.h.
CLIENT_TESTS = $(B)/test/test_client $(B)/test/test_fetch $(B)/test/test_loop \
               $(B)/test/test_dispatch $(B)/test/test_exchange $(B)/test/test_cx \
               $(B)/test/test_dial $(B)/test/test_bufs
UNIT_TESTS = $(B)/test/test_parse $(B)/test/test_framing $(B)/test/test_body $(B)/test/test_reader \
             $(B)/test/test_headers $(B)/test/test_conformance $(B)/test/test_conn \
             $(B)/test/test_url $(B)/test/test_transport $(CLIENT_TESTS) \
             $(B)/test/test_sysfail $(B)/test/test_layouts
ifeq ($(WITH_MSNGW),1)
UNIT_TESTS += $(B)/test/test_msngw
endif
SONAME = libh1c.so.$(MAJOR)

.PHONY: all check deps sanitize fuzz bench bench-deps bench-parse bench-e2e bench-nodelay demo \
        install uninstall clean unit-tests lint optional-examples valgrind coverage soak torture \
        check32 interop bench-scale
.DELETE_ON_ERROR:

all: $(B)/libh1c.a $(B)/libh1c.so $(PROGS) $(EXAMPLES) $(B)/origin $(B)/msngw-emu

$(B)/obj/%.o: lib/%.c lib/internal.h lib/manager.h include/h1c.h include/h1c_msngw.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libh1c.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/libh1c.so.$(VERSION): $(LIB_OBJ) lib/h1c.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/h1c.map \
		$(LDFLAGS) -o $@ $(LIB_OBJ)

$(B)/libh1c.so: $(B)/libh1c.so.$(VERSION)
	ln -sf libh1c.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libh1c.so.$(VERSION) $@

$(B)/io-counting $(B)/async-get: $(B)/%: examples/%.c $(B)/libh1c.a include/h1c.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a
$(B)/async-get: examples/fetch-list.h

$(B)/msn-gateway: examples/msn-gateway.c $(B)/libh1c.a include/h1c.h include/h1c_msngw.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a

$(B)/msngw-emu: test/servers/msngw-emu.c test/servers/serve.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $(CFLAGS) $< -o $@ $(LDFLAGS)

$(B)/epoll-get: examples/epoll-get.c examples/fetch-list.h $(B)/libh1c.a include/h1c.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a

$(B)/libevent-get: examples/libevent-get.c adapters/h1c-libevent.h examples/fetch-list.h \
		$(B)/libh1c.a include/h1c.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $$(pkg-config --cflags libevent) $< -o $@ $(LDFLAGS) \
		$(B)/libh1c.a $$(pkg-config --libs libevent)

$(B)/libuv-get: examples/libuv-get.c adapters/h1c-libuv.h examples/fetch-list.h \
		$(B)/libh1c.a include/h1c.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $$(pkg-config --cflags libuv) $< -o $@ $(LDFLAGS) \
		$(B)/libh1c.a $$(pkg-config --libs libuv)

# The adapters' test (test/integration/loop_ends.c), once per loop library.
$(B)/test/loop_ends_libevent: test/integration/loop_ends.c adapters/h1c-libevent.h \
		$(B)/libh1c.a include/h1c.h
	@mkdir -p $(@D)
	$(CC) $(H1C_CFLAGS) $(CFLAGS) -DLOOP_LIBEVENT $$(pkg-config --cflags libevent) $< -o $@ \
		$(LDFLAGS) $(B)/libh1c.a $$(pkg-config --libs libevent)

$(B)/test/loop_ends_libuv: test/integration/loop_ends.c adapters/h1c-libuv.h \
		$(B)/libh1c.a include/h1c.h
	@mkdir -p $(@D)
	$(CC) $(H1C_CFLAGS) $(CFLAGS) -DLOOP_LIBUV $$(pkg-config --cflags libuv) $< -o $@ \
		$(LDFLAGS) $(B)/libh1c.a $$(pkg-config --libs libuv)

$(B)/tls-openssl: examples/tls-openssl.c $(B)/libh1c.a include/h1c.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $$(pkg-config --cflags openssl) $< -o $@ $(LDFLAGS) \
		$(B)/libh1c.a $$(pkg-config --libs openssl)

$(B)/h1c-%: examples/h1c-%.c $(B)/libh1c.a include/h1c.h
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a

# ---- tests ------------------------------------------------------------------

$(B)/soak: test/soak/soak.c test/unit/spawn.h $(B)/libh1c.a $(B)/origin
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a

# The fault-injection soak against the chaos origin: SOAK_REQUESTS (a
# million) mixed requests, pipelined over several connections. make check
# runs a short one.
SOAK_REQUESTS ?= 1000000
SOAK_SEED ?= 1
soak: $(B)/soak
	$(B)/soak $(B)/origin --requests $(SOAK_REQUESTS) --seed $(SOAK_SEED)

# Allocation-failure torture of the soak workload: each allocation of a
# short run failed in turn, then longer runs failing 1 in 7, 31 and 97
# (make check runs it too).
torture: $(B)/soak
	sh test/soak/torture $(B)

# The interop matrix alone (make check runs it too, unless H1C_INTEROP=0):
# nginx, apache2, lighttpd, Node.js, Python's http.server, haproxy, varnish,
# squid and tinyproxy on loopback, each scenario checked against the
# server's access log.
interop: all $(B)/test/interop-mix
	bash test/interop/run $(B)

$(B)/test/ka_idle: test/integration/ka_idle.c $(B)/libh1c.a
	@mkdir -p $(@D)
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a

# The interop matrix's driver of the library (test/interop/run).
$(B)/test/interop-mix: test/interop/mix.c $(B)/libh1c.a include/h1c.h
	@mkdir -p $(@D)
	$(CC) $(H1C_CFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a

$(B)/origin: test/servers/origin.c test/servers/serve.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $(CFLAGS) $< -o $@ $(LDFLAGS)

CMOCKA_LIBS = -lcmocka

$(B)/test/%: test/unit/%.c test/unit/testutil.h test/unit/spawn.h test/unit/failalloc.h \
		test/unit/iolayers.h test/unit/guard.h $(B)/libh1c.a
	@mkdir -p $(@D)
	$(CC) $(H1C_CFLAGS) -Ilib $(CFLAGS) $< -o $@ $(LDFLAGS) $(B)/libh1c.a $(CMOCKA_LIBS)

# The system-failure tests replace these C library calls, for the library's
# objects and theirs, with versions that fail on demand (GNU ld and lld).
SYSFAIL_WRAP = -Wl,--wrap=getaddrinfo,--wrap=socket,--wrap=fcntl,--wrap=connect \
               -Wl,--wrap=getsockopt,--wrap=poll,--wrap=epoll_wait,--wrap=malloc
$(B)/test/test_sysfail: test/unit/test_sysfail.c test/unit/testutil.h test/unit/spawn.h \
		test/unit/failalloc.h $(B)/libh1c.a $(B)/origin
	@mkdir -p $(@D)
	$(CC) $(H1C_CFLAGS) -Ilib $(CFLAGS) $< -o $@ $(LDFLAGS) $(SYSFAIL_WRAP) $(B)/libh1c.a \
		$(CMOCKA_LIBS)

# The client's tests start the origin server next to them, the gateway
# module's tests the gateway emulator.
$(CLIENT_TESTS) $(B)/test/test_layouts: $(B)/origin
$(CLIENT_TESTS): test/unit/client_fixture.h
$(B)/test/test_msngw: $(B)/msngw-emu

unit-tests: $(UNIT_TESTS) $(B)/test/ka_idle $(B)/test/interop-mix $(B)/soak

optional-examples:
	@if [ "$(HAVE_LIBEVENT)" = 1 ]; then \
		$(MAKE) --no-print-directory $(B)/libevent-get $(B)/test/loop_ends_libevent; \
	else echo "libevent-get: libevent not found, not built"; fi
	@if [ "$(HAVE_LIBUV)" = 1 ]; then $(MAKE) --no-print-directory $(B)/libuv-get $(B)/test/loop_ends_libuv; \
	else echo "libuv-get: libuv (libuv1-dev) not found, not built"; fi
	@if [ "$(HAVE_OPENSSL)" = 1 ]; then $(MAKE) --no-print-directory $(B)/tls-openssl; \
	else echo "tls-openssl: OpenSSL (libssl-dev) not found, not built"; fi

check: all unit-tests
	@$(MAKE) --no-print-directory optional-examples
	@sh test/run-tests $(B) $(UNIT_TESTS)

# A 32-bit build (gcc -m32, size_t of 32 bits; needs gcc-multilib): the
# library, h1c-decode through the driver tests (lengths past 2^32 among
# them) and the whole client through the short soak. The cmocka suites are
# not built: Debian has no 32-bit cmocka on an amd64 machine by default.
M32_B = build/m32
check32:
	@sh test/install-deps gcc-multilib
	$(MAKE) B=$(M32_B) CFLAGS=-m32 LDFLAGS=-m32 all $(M32_B)/soak
	sh test/driver/run $(M32_B)/h1c-decode
	$(M32_B)/soak $(M32_B)/origin --requests 20000

# The same tests built with AddressSanitizer and UBSan; any report fails.
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g
SAN_B ?= build/san
sanitize:
	$(MAKE) B=$(SAN_B) CC=$(SAN_CC) CFLAGS="$(SAN_FLAGS) -O1" LDFLAGS="$(SAN_FLAGS)" \
		all unit-tests optional-examples
	EXAMPLE_FLAGS="$(SAN_FLAGS)" CC=$(SAN_CC) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		sh test/run-tests $(SAN_B) $(UNIT_TESTS:$(B)/%=$(SAN_B)/%)

# The unit tests (which start the project's servers) under valgrind: any
# error or definite leak fails.
valgrind: all unit-tests
	@for t in $(UNIT_TESTS); do \
		echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			$$t > $(B)/valgrind.log 2>&1 || { cat $(B)/valgrind.log; exit 1; }; \
		grep -E "PASSED|FAILED" $(B)/valgrind.log | tail -2; \
	done

# Line and branch coverage of lib/ (gcovr) over the unit and integration tests.
COV_B = build/cov
coverage:
	@sh test/install-deps gcovr
	rm -rf $(COV_B)
	$(MAKE) B=$(COV_B) CFLAGS="--coverage -O0" LDFLAGS="--coverage" all unit-tests optional-examples
	EXAMPLE_FLAGS="--coverage" sh test/run-tests $(COV_B) $(UNIT_TESTS:$(B)/%=$(COV_B)/%) \
		> $(COV_B)/tests.log 2>&1 || { grep -E "^FAIL|failing" $(COV_B)/tests.log; exit 1; }
	gcovr -r . --filter 'lib/' --object-directory $(COV_B) --exclude-unreachable-branches $(COV_B) \
		> $(COV_B)/lines.txt
	gcovr -r . --filter 'lib/' --object-directory $(COV_B) --exclude-unreachable-branches -b $(COV_B) \
		> $(COV_B)/branches.txt
	@sed -n '/^File/,$$p' $(COV_B)/lines.txt | cut -c1-70
	@sed -n '/^File/,$$p' $(COV_B)/branches.txt | cut -c1-70

# Installs with apt-get whatever the tests need and is missing.
DEPS = libcmocka-dev python3 groff-base pkg-config clang libclang-rt-dev nginx squid time \
       libevent-dev libuv1-dev valgrind libssl-dev openssl cmake \
       apache2 lighttpd nodejs haproxy varnish tinyproxy
BENCH_DEPS = libh2o0.13 node-llhttp libhttp-parser-dev valgrind libcurl4-openssl-dev wrk nginx \
             pkg-config python3 libuv1-dev libevent-dev
# What make bench-scale alone needs (taskset and timeout are in util-linux
# and coreutils, always there on Debian).
SCALE_DEPS = libcurl4-openssl-dev libuv1-dev libevent-dev nginx pkg-config python3
deps:
	@sh test/install-deps $(DEPS)

bench-deps:
	@sh test/install-deps $(BENCH_DEPS)

# ---- static analysis --------------------------------------------------------

# Annex K "use memcpy_s" advice does not apply (glibc has no Annex K);
# reserved-identifier checks flag the h1c__ shared-name convention.
TIDY_CHECKS = -*,bugprone-*,clang-analyzer-*,performance-*,portability-*,cert-*,\
-bugprone-easily-swappable-parameters,-cert-err33-c,-bugprone-reserved-identifier,\
-cert-dcl37-c,-cert-dcl51-cpp,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
lint:
	cppcheck --enable=warning,style,performance,portability --error-exitcode=1 \
		--inline-suppr --quiet -Iinclude -Ilib lib/ examples/
	clang-tidy --quiet -checks='$(TIDY_CHECKS)' -warnings-as-errors='*' \
		lib/*.c examples/h1c-decode.c examples/h1c-get.c examples/io-counting.c \
		examples/async-get.c examples/epoll-get.c examples/msn-gateway.c -- -std=c11 -Iinclude -Ilib -D_POSIX_C_SOURCE=200809L
	rm -rf build/scan
	scan-build --status-bugs -o build/scan/report $(MAKE) -s B=build/scan \
		build/scan/libh1c.a build/scan/h1c-get build/scan/h1c-decode build/scan/msn-gateway

# ---- fuzzing ----------------------------------------------------------------

FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS = decode conn url
ifeq ($(WITH_MSNGW),1)
FUZZ_TARGETS += msngw
endif
$(B)/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(LIB_SRC) lib/internal.h include/h1c.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib $(FUZZ_FLAGS) \
		$< $(filter-out lib/msngw.c,$(LIB_SRC)) -o $@

fuzz: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/fuzz/corpus-$$t; \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		$(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(B)/fuzz/corpus-$$t test/fuzz/corpus/$$t || exit 1; \
	done

# ---- benchmark ----------------------------------------------------------------

LLHTTP_DIR ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp
$(B)/bench/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -I$(LLHTTP_INC) -w -c $< -o $@

BENCH_SRC = bench/bench_parse.c bench/peer_llhttp.c bench/peer_http_parser.c
$(B)/bench/bench_parse: $(BENCH_SRC) bench/bench.h bench/measure.h $(B)/libh1c.a \
		$(B)/bench/llhttp/llhttp.o $(B)/bench/llhttp/api.o $(B)/bench/llhttp/http.o
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude \
		-I$(LLHTTP_INC) $(CFLAGS) $(BENCH_SRC) -o $@ $(B)/libh1c.a \
		$(B)/bench/llhttp/llhttp.o $(B)/bench/llhttp/api.o $(B)/bench/llhttp/http.o \
		-lhttp_parser -l:libh2o.so.0.13

E2E_CFLAGS = -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iinclude $(CFLAGS)
$(B)/bench/e2e-h1c: bench/e2e/h1c.c bench/e2e/common.h bench/measure.h $(B)/libh1c.a
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $< -o $@ $(B)/libh1c.a
$(B)/bench/e2e-curl: bench/e2e/curl.c bench/e2e/common.h bench/measure.h
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $$(pkg-config --cflags libcurl) $< -o $@ $$(pkg-config --libs libcurl)
$(B)/bench/e2e-floor: bench/e2e/floor.c bench/e2e/common.h bench/measure.h
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $< -o $@

E2E_REQUESTS ?= 100000
E2E_ROUNDS ?= 3
bench-e2e: bench-deps $(B)/bench/e2e-h1c $(B)/bench/e2e-curl $(B)/bench/e2e-floor
	bash bench/e2e/run.sh $(B) $(E2E_REQUESTS) $(E2E_ROUNDS)

bench-parse: bench-deps
	$(MAKE) $(B)/bench/bench_parse
	$(B)/bench/bench_parse
	@sh bench/instr.sh $(B)/bench/bench_parse

# Pipelining depths 1, 4, 8, 32 through h1c-get against servers that leave
# Nagle's algorithm on (the origin's --no-nodelay, --split-writes, Python's
# http.server) and the plain origin; NODELAY_REQUESTS="200 1000" GETs each.
# Needs only what make builds (and python3 for the http.server row).
NODELAY_REQUESTS ?= 200 1000
bench-nodelay: $(B)/h1c-get $(B)/origin
	NODELAY_REQUESTS="$(NODELAY_REQUESTS)" bash bench/nodelay/run.sh $(B)

# One client thread, N = 1, 16, 256, 1,024, 4,096, 10,000 connections to
# nginx on loopback (pinned to one core, the client to the other), all busy
# and one active with N-1 idle, for the built-in loop, the libuv and the
# libevent adapter, libcurl multi, and a floor with no library (one send
# and one recv per request on epoll: what the kernel charges for the same
# traffic): CPU per request, requests/s, heap per idle connection,
# allocations per request. About 5 minutes today.
# SCALE_NS, SCALE_LOOPS, SCALE_CURL, SCALE_FLOOR, SCALE_WINDOW ...: see
# bench/scale/run.sh.
SCALE_CFLAGS = $(E2E_CFLAGS) -Iadapters
$(B)/bench/scale-h1c: bench/scale/h1c-scale.c bench/scale/scale.h bench/measure.h \
		adapters/h1c-libuv.h adapters/h1c-libevent.h $(B)/libh1c.a
	@mkdir -p $(@D)
	$(CC) $(SCALE_CFLAGS) $$(pkg-config --cflags libuv libevent) $< -o $@ $(B)/libh1c.a \
		$$(pkg-config --libs libuv libevent)
$(B)/bench/scale-floor: bench/scale/floor-scale.c bench/scale/scale.h bench/measure.h
	@mkdir -p $(@D)
	$(CC) $(SCALE_CFLAGS) -D_GNU_SOURCE $< -o $@
$(B)/bench/scale-curl: bench/scale/curl-scale.c bench/scale/scale.h bench/measure.h
	@mkdir -p $(@D)
	$(CC) $(SCALE_CFLAGS) $$(pkg-config --cflags libcurl) $< -o $@ $$(pkg-config --libs libcurl)

bench-scale:
	@sh test/install-deps $(SCALE_DEPS)
	$(MAKE) $(B)/bench/scale-h1c $(B)/bench/scale-curl $(B)/bench/scale-floor
	bash bench/scale/run.sh $(B)

bench: bench-parse bench-e2e bench-nodelay bench-scale

# ---- demo -------------------------------------------------------------------

demo: all
	@sh examples/demo.sh $(B)

# ---- install ----------------------------------------------------------------

MAN3 = $(wildcard man/man3/*.3)
MAN1 = $(wildcard man/man1/*.1)
ifneq ($(WITH_MSNGW),1)
MAN3 := $(filter-out man/man3/h1c_msngw_%,$(MAN3))
MAN1 := $(filter-out man/man1/msn-gateway.1,$(MAN1))
endif

$(B)/h1c.pc: pkgconfig/h1c.pc.in include/h1c.h
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: all $(B)/h1c.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/libh1c.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libh1c.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libh1c.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libh1c.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libh1c.so
	install -m 644 include/h1c.h adapters/h1c-libevent.h adapters/h1c-libuv.h \
		$(DESTDIR)$(INCLUDEDIR)/
	if [ "$(WITH_MSNGW)" = 1 ]; then install -m 644 include/h1c_msngw.h $(DESTDIR)$(INCLUDEDIR)/; fi
	install -m 644 $(B)/h1c.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libh1c.a $(DESTDIR)$(LIBDIR)/libh1c.so \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libh1c.so.$(VERSION) \
		$(DESTDIR)$(INCLUDEDIR)/h1c.h $(DESTDIR)$(INCLUDEDIR)/h1c_msngw.h \
		$(DESTDIR)$(INCLUDEDIR)/h1c-libevent.h $(DESTDIR)$(INCLUDEDIR)/h1c-libuv.h \
		$(DESTDIR)$(LIBDIR)/pkgconfig/h1c.pc
	rm -f $(MAN3:man/man3/%=$(DESTDIR)$(MANDIR)/man3/%) \
		$(MAN1:man/man1/%=$(DESTDIR)$(MANDIR)/man1/%) \
		$(PROGS:$(B)/%=$(DESTDIR)$(BINDIR)/%)

clean:
	rm -rf build
