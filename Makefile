# nango: PostgreSQL extension that keeps tables in step with paginated JSON APIs.
#
# Built with PGXS.  `make test` runs the whole suite (see test/run_tests.sh),
# `make demo` starts a local demonstration, `make bench` runs the benchmarks.

EXTENSION = nango
# The version is written once, in nango.control.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" nango.control)
MODULE_big = nango

# Sources are grouped by their step of the pipeline (see CONTRIBUTING.md).
SRC_DIRS = common api catalog engine net store worker
SRCS = src/nango.c $(sort $(foreach d,$(SRC_DIRS),$(wildcard src/$(d)/*.c)))
OBJS = $(SRCS:.c=.o)

# The install script of the current version is assembled from the ordered
# parts in src/sql/.  The install scripts of released versions and every
# upgrade script (nango--<from>--<to>.sql) are tracked files at the top level
# and installed as they are (see "Upgrading" in README.md).
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*.sql))

PG_CONFIG ?= pg_config
PG_CPPFLAGS = $(foreach d,$(SRC_DIRS),-Isrc/$(d)) -DNANGO_VERSION='"$(EXTVERSION)"' -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare -Wno-cast-function-type
SHLIB_LINK = -lcurl -lcjson

EXTRA_CLEAN = $(DATA_built) results regression.diffs regression.out tmp_check

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_PARTS)
	cat $^ > $@

$(OBJS): $(wildcard src/*/*.h)

.PHONY: test demo bench fuzz
test:
	bash test/run_tests.sh

demo:
	bash test/demo.sh

bench:
	bash bench/run_bench.sh

# libFuzzer targets of the parsers that read untrusted input (test/fuzz/).
FUZZ_SECONDS ?= 60
fuzz:
	bash test/fuzz/run.sh $(FUZZ_SECONDS)
