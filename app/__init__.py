"""Carrel: a local-first AI workbench for the desktop."""

import os
import sys

__version__ = "0.1.0"

# onnxruntime (the embedder's runtime) sends usage events to Microsoft, on Linux too, unless
# this is set, and keeps a device identifier under ~/.cache/Microsoft: measured with
# onnxruntime 1.32 under strace (DNS lookups of mobile.events.data.microsoft.com while
# the embedder was exported and quantized). It is read when onnxruntime's library loads, so
# it is set here, before any of Carrel's modules can import it, and never left to the
# person's environment: Carrel sends nothing anywhere.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

# OpenVINO (the embedder's runtime on processors with AMX) sends an "import" event to
# Google Analytics from `import openvino` through its `openvino-telemetry` dependency:
# measured with openvino 2026.4.1 under strace (a DNS lookup of www.google-analytics.com,
# and a client id under ~/intel). OpenVINO falls back to its own no-op stub when that
# package cannot be imported, so Carrel's process makes it unimportable (a `None` entry
# in `sys.modules` makes `import` raise ImportError); the installer leaves it out as well.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
