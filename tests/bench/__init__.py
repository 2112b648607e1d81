"""Benchmarks (README: `make bench`). `CARREL_BENCH_NO_AMX=1`: run as on a processor
without AMX (`tests.bench.no_amx`); `CARREL_BENCH_AVX2=1`: as on one with AVX2 and no
AVX-512 (`tests.bench.avx2`); each set up here before a bench imports any library."""

import os

if os.environ.get("CARREL_BENCH_NO_AMX"):
    from tests.bench.no_amx import deny_amx

    deny_amx()

if os.environ.get("CARREL_BENCH_AVX2"):
    from tests.bench.avx2 import as_avx2

    as_avx2()
