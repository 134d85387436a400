# hsmca — plain Makefile. `make`, `make test`, `make test-san`, `make demo`,
# `make rehearse`, `make bench`, `make install PREFIX=...`, `make fuzz`.

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
PKGS      = libcrypto p11-kit-1 sqlite3 jansson
# libpq: its header only; the store loads libpq.so.5 when it meets a
# PostgreSQL store (tools/lib/store/pq.h), so no tool links it.
PQ_PKG    = libpq
WERROR   ?=

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(PQ_PKG) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OSSL_MODULES := $(shell pkg-config --variable=modulesdir libcrypto 2>/dev/null)

WARN     = -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Werror=implicit-function-declaration $(WERROR)
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong
OPT     ?= -O2 -g
ifeq ($(SAN),1)
OPT      = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=undefined
HARDEN   = -fstack-protector-strong
endif
CFLAGS  += $(WARN) $(HARDEN) $(OPT) -D_GNU_SOURCE -fPIC $(PKG_CFLAGS) \
           -DHSMCA_VERSION=\"$(VERSION)\"
LDFLAGS += -Wl,-z,relro,-z,now $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined)
comma := ,
VERSION := 0.1.0

# Layers (tests/layers.txt): common/ serves the provider and the tools;
# the provider (providers/hsmca, its token layer in token/) includes only
# common/ and itself; the tools' library is tools/lib/<layer>/.
COMMON_SRCS := $(sort $(wildcard common/*.c))
# The ceremony program's library (tools/lib/ceremony/, the top layer, with
# issue/) is an archive of its own: it alone needs libyaml (ceremony
# files) and cairo and pango (the printed record).
CER_PKGS   = yaml-0.1 cairo pangocairo fontconfig
CER_CFLAGS := $(shell pkg-config --cflags $(CER_PKGS) 2>/dev/null)
CER_LIBS   := $(shell pkg-config --libs $(CER_PKGS) 2>/dev/null)
CER_SRCS  := $(sort $(wildcard tools/lib/ceremony/*.c))
PROV_SRCS := $(sort $(wildcard providers/hsmca/*.c providers/hsmca/token/*.c))
LIB_SRCS  := $(filter-out $(EXCLUDE) $(CER_SRCS),$(sort $(wildcard tools/lib/*/*.c)))
TOOL_SRCS := $(filter-out $(EXCLUDE),$(sort $(wildcard tools/*.c)))
TOOLS     := $(patsubst tools/%.c,%,$(TOOL_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
# p11args.c is a PKCS#11 module (a shared object), fuzzreplay.c the main()
# of the replay programs below, the rest are programs.
HELPER_SRCS := $(filter-out tests/helpers/p11args.c tests/helpers/fuzzreplay.c,\
                 $(sort $(wildcard tests/helpers/*.c)))
# Fuzz targets replayed over their seed corpora by the normal and sanitizer
# builds (tests/integration/63-fuzz-corpus.sh): build/tests/replay_NAME.
REPLAY_TARGETS := csr

COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
PROV_OBJS := $(PROV_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CER_OBJS  := $(CER_SRCS:%.c=$(BUILD)/obj/%.o)
CER_LIBA  := $(BUILD)/libhsmca-ceremony.a
CER_USERS := $(BUILD)/obj/tools/ceremony.o $(BUILD)/obj/tests/unit/test_ceremony.o
# The provider module: its own sources and common/, nothing else.
MOD_OBJS  := $(PROV_OBJS) $(COMMON_OBJS)

BINS      := $(TOOLS:%=$(BUILD)/bin/hsmca-%)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HELPERS   := $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/%) \
             $(BUILD)/tests/p11args.so $(REPLAY_TARGETS:%=$(BUILD)/tests/replay_%)
MODULE    := $(BUILD)/lib/hsmca.so
# The fault-injecting PKCS#11 module the tests load (tests/faultp11/).
FAULTP11  := $(BUILD)/tests/faultp11.so
LIBA      := $(BUILD)/libhsmca.a

.SECONDARY:
.PHONY: all deps test test-san test-long demo rehearse bench install fuzz clean format format-check

all: $(MODULE) $(BINS) $(UNITS) $(HELPERS) $(FAULTP11)

deps:
	@scripts/install-deps

# Includes are "common/x.h" (from the top) and "layer/x.h" (from tools/lib);
# the provider and common/ do not even see tools/lib.
INC      = -I. -Itools/lib
$(BUILD)/obj/providers/%.o $(BUILD)/obj/common/%.o: INC = -I.

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -MMD -MP -c -o $@ $<

$(MODULE): $(MOD_OBJS) providers/hsmca/hsmca.map
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(MOD_OBJS) $(LDFLAGS) -Wl,-z,nodelete \
	  -Wl,--version-script=providers/hsmca/hsmca.map $(PKG_LIBS) -lpthread

$(FAULTP11): tests/faultp11/faultp11.c tests/faultp11/p11names.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $< $(LDFLAGS) -lcrypto -lpthread

$(LIBA): $(LIB_OBJS) $(PROV_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(CER_OBJS) $(CER_USERS): CFLAGS += $(CER_CFLAGS)

$(CER_LIBA): $(CER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/hsmca-ceremony: $(BUILD)/obj/tools/ceremony.o $(CER_LIBA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -pie -o $@ $< $(CER_LIBA) $(LIBA) $(LDFLAGS) $(PKG_LIBS) $(CER_LIBS) -lpthread

$(BUILD)/tests/test_ceremony: $(BUILD)/obj/tests/unit/test_ceremony.o $(CER_LIBA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -pie -o $@ $< $(CER_LIBA) $(LIBA) $(LDFLAGS) $(PKG_LIBS) $(CER_LIBS) -lpthread

$(BUILD)/bin/hsmca-%: $(BUILD)/obj/tools/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -pie -o $@ $< $(LIBA) $(LDFLAGS) $(PKG_LIBS) -lpthread

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -pie -o $@ $< $(LIBA) $(LDFLAGS) $(PKG_LIBS) -lpthread

$(BUILD)/tests/%: $(BUILD)/obj/tests/helpers/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -pie -o $@ $< $(LIBA) $(LDFLAGS) $(PKG_LIBS) -lpthread

$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/helpers/fuzzreplay.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) -pie -o $@ $^ $(LDFLAGS) $(PKG_LIBS) -lpthread

# Loaded by pkcs11-tool and the libp11 engine, which carry no sanitizer
# runtime: always built without one.
$(BUILD)/tests/p11args.so: tests/helpers/p11args.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g -fPIC -D_GNU_SOURCE $(PKG_CFLAGS) -shared -o $@ $< -Wl,-z,relro,-z,now -ldl

test: deps
	@$(MAKE) --no-print-directory format-check all
	@BUILD=$(BUILD) tests/run

test-san: deps
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 all
	@BUILD=build/san HSMCA_SAN=1 tests/run

# The long runs: 50 SIGKILL trials of a 2,000-request batch.
test-long: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) CRASH_TRIALS=50 tests/run 56-crash

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) ceremony/demo

# A rehearsal of an example ceremony file, you as the witness:
# make rehearse [CEREMONY=root|key|subca|cross|crl|revoke-subca]
CEREMONY ?= root
rehearse: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/bin/hsmca-ceremony run ceremony/examples/$(CEREMONY).yaml --rehearse \
	  --out "$$(mktemp -d "$${TMPDIR:-/tmp}/hsmca-rehearsal.XXXXXX")"

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/bench

install: $(MODULE) $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	if [ "$(PREFIX)" = "/usr" ] || [ "$(PREFIX)" = "/usr/local" ]; then \
	  install -d $(DESTDIR)$(OSSL_MODULES) && \
	  install -m 0644 $(MODULE) $(DESTDIR)$(OSSL_MODULES)/hsmca.so; \
	else \
	  install -d $(DESTDIR)$(PREFIX)/lib/ossl-modules && \
	  install -m 0644 $(MODULE) $(DESTDIR)$(PREFIX)/lib/ossl-modules/hsmca.so; \
	fi
	install -d $(DESTDIR)$(PREFIX)/share/hsmca
	install -m 0644 providers/hsmca/openssl-hsmca.cnf $(DESTDIR)$(PREFIX)/share/hsmca/
	install -d $(DESTDIR)$(PREFIX)/share/hsmca/ceremony
	install -m 0644 ceremony/examples/* $(DESTDIR)$(PREFIX)/share/hsmca/ceremony/
	@mods=$$(if [ "$(PREFIX)" = "/usr" ] || [ "$(PREFIX)" = "/usr/local" ]; then \
	  echo "$(OSSL_MODULES)"; else echo "$(PREFIX)/lib/ossl-modules"; fi); \
	echo "provider: $$mods/hsmca.so; check that OpenSSL loads it:"; \
	echo "  openssl list -providers -provider-path $$mods -provider hsmca -provider default"

# Every libFuzzer target, FUZZ_RUNS inputs each (default 20000) from seed
# FUZZ_SEED (default 1); FUZZ_TARGETS="dn serial" to pick (scripts/build-fuzz).
fuzz:
	@scripts/build-fuzz

# Every C file of the project in the checked-in .clang-format style;
# `make test` runs format-check first.
FORMAT_SRCS = $(sort $(shell find common providers tools tests -name '*.[ch]'))
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS) || \
	  { echo "format-check: run 'make format' (clang-format, .clang-format)" >&2; exit 1; }

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
