"""Carrel: a local-first AI workbench for the desktop."""

import os

__version__ = "0.1.0"

# onnxruntime (the embedder's runtime) sends usage events to Microsoft, on Linux too, unless
# this is set, and keeps a device identifier under ~/.cache/Microsoft: measured with
# onnxruntime 1.32 under strace (DNS lookups of mobile.events.data.microsoft.com while
# the embedder was exported and quantized). It is read when onnxruntime's library loads, so
# it is set here, before any of Carrel's modules can import it, and never left to the
# person's environment: Carrel sends nothing anywhere.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
