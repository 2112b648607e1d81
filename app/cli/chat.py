"""`carrel chat`: one reply from a local model, streamed to the terminal or as JSON."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.output import print_json
from app.engine.backend import Done, Token
from app.prompt import ChatMessage
from app.workbench import Workbench


def register(commands: Any) -> None:
    p = commands.add_parser("chat", help="ask a local model one question")
    p.add_argument("--model", help="model name or path of a .gguf file (default: settings)")
    p.add_argument("--prompt", required=True, help="the message to send")
    p.add_argument("--system", help="system prompt (default: settings)")
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--temperature", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        model = args.model or wb.settings.model.default
        wb.load_model(model)
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
        done: Done | None = None
        try:
            for event in generation:
                if isinstance(event, Token) and not args.json:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, Done):
                    done = event
        except KeyboardInterrupt:
            generation.cancel()
            for event in generation:
                if isinstance(event, Done):
                    done = event
        assert done is not None
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
                }
            )
        else:
            sys.stdout.write("\n")
        return 0
    finally:
        wb.close()
