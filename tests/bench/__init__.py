"""Benchmarks (README: `make bench`). `CARREL_BENCH_NO_AMX=1`: run as on a processor
without AMX (`tests.bench.no_amx`), set up here before a bench imports any library."""

import os

if os.environ.get("CARREL_BENCH_NO_AMX"):
    from tests.bench.no_amx import deny_amx

    deny_amx()
