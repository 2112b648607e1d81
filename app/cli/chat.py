"""`carrel chat`: one reply from a local model, streamed to the terminal or as JSON."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from app.cli.output import print_json, stream_reply
from app.engine.backend import Done
from app.errors import CarrelError
from app.library.load_options import KV_CACHE_TYPES, parse_gpu_layers
from app.prompt import ChatMessage
from app.workbench import Workbench

log = logging.getLogger(__name__)


def register(commands: Any) -> None:
    p = commands.add_parser("chat", help="ask a local model one question")
    p.add_argument("--model", help="model name or path of a .gguf file (default: settings)")
    p.add_argument("--prompt", required=True, help="the message to send")
    p.add_argument("--system", help="system prompt (default: settings)")
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--temperature", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    load = p.add_argument_group("loading (default: the model's options in the library)")
    load.add_argument("--gpu-layers", metavar="auto|none|N", help="layers on the GPU")
    load.add_argument("--ctx", type=int, metavar="N", help="context length in tokens")
    load.add_argument("--flash-attn", action=argparse.BooleanOptionalAction, default=None)
    load.add_argument("--kv-type", choices=KV_CACHE_TYPES, help="KV-cache type")
    load.add_argument("--threads", type=int, metavar="N", help="0: one per physical core")
    load.add_argument("--batch-size", type=int, metavar="N", help="prompt batch in tokens")
    p.set_defaults(handler=run)


def load_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The load options given on the command line (the others come from the library)."""
    values = {
        "gpu_layers": parse_gpu_layers(args.gpu_layers) if args.gpu_layers else None,
        "context_length": args.ctx,
        "flash_attn": args.flash_attn,
        "kv_type": args.kv_type,
        "threads": args.threads,
        "batch_size": args.batch_size,
    }
    return {k: v for k, v in values.items() if v is not None}


def run(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        model = args.model or wb.settings.model.default
        wb.load_model(model, overrides=load_overrides(args))
        placement = wb.placement
        if placement is not None and not args.json:
            for note in placement.notes:
                print(f"carrel: {note}", file=sys.stderr)
        system = wb.settings.model.system_prompt if args.system is None else args.system
        messages = [ChatMessage("system", system)] if system else []
        messages.append(ChatMessage("user", args.prompt))
        overrides = {
            k: v
            for k, v in {
                "max_tokens": args.max_tokens,
                "temperature": args.temperature,
                "seed": args.seed,
            }.items()
            if v is not None
        }
        generation = wb.complete(messages, wb.params_for(overrides))
        try:
            done = stream_reply(generation, quiet=args.json)
        except CarrelError as exc:
            _record(wb, model, None, type(exc).__name__)
            raise
        assert done is not None
        _record(wb, model, done, "stopped" if done.stats.stopped else "")
        if args.json:
            s = done.stats
            print_json(
                {
                    "text": done.text,
                    "model": s.model,
                    "prompt_tokens": s.prompt_tokens,
                    "completion_tokens": s.completion_tokens,
                    "ttft_ms": round(s.ttft_ms, 1),
                    "tokens_per_s": round(s.tokens_per_s, 1),
                    "stopped": s.stopped,
                    "dropped_turns": s.dropped_turns,
                    "seed": s.seed,
                    "runs_on": placement.describe() if placement else "",
                    "placement": placement.as_dict() if placement else None,
                }
            )
        else:
            sys.stdout.write("\n")
        return 0
    finally:
        wb.close()


def _record(wb: Workbench, model: str, done: Done | None, failure: str) -> None:
    """Count the reply in the usage log (`carrel eval usage`), as the window's are."""
    from app.evaluate.usage import UsageLog

    s = done.stats if done is not None else None
    try:
        UsageLog(wb.store).record(
            model=s.model if s else model,
            route="local-only",
            total_ms=s.total_ms if s else 0.0,
            ttft_ms=s.ttft_ms if s else 0.0,
            tokens_in=s.prompt_tokens if s else 0,
            tokens_out=s.completion_tokens if s else 0,
            failure=failure,
        )
    except Exception:  # instrumentation never costs the person their reply
        log.exception("the reply could not be counted in the usage log")
