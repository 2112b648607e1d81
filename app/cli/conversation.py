"""`carrel conversation`: the stored conversations from the shell, and the reply actions
that make sense there — send, regenerate, continue a stopped reply, edit an earlier
message and send it again, and show another variant. Copy is the terminal's own; the
window and this command share the conversations, variants and branches
(`Workbench.turns`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.branches import Turn
from app.cli.output import print_json, stream_reply
from app.markers import check_answer
from app.replies import Reply
from app.workbench import Workbench


def register(commands: Any) -> None:
    p = commands.add_parser("conversation", help="stored conversations and reply actions")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="the conversations, most recent first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_)
    new = sub.add_parser("new", help="start a conversation; prints its id")
    new.add_argument("--json", action="store_true")
    new.set_defaults(handler=new_)
    show = sub.add_parser("show", help="the branch shown, with message ids and variants")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_)
    switch = sub.add_parser("switch", help="show the variant or branch a message is in")
    switch.add_argument("id", type=int)
    switch.add_argument("message", type=int)
    switch.add_argument("--json", action="store_true")
    switch.set_defaults(handler=switch_)
    for name, helptext, handler in (
        ("send", "send a message and stream the reply", send),
        ("regenerate", "write a reply again (the old one is kept)", regenerate),
        ("continue", "go on with a stopped reply", continue_),
        ("edit", "send an earlier message of yours changed (the chat branches)", edit),
    ):
        q = sub.add_parser(name, help=helptext)
        q.add_argument("id", type=int, help="the conversation")
        if name in ("regenerate", "continue", "edit"):
            q.add_argument(
                "message",
                type=int,
                nargs="?" if name != "edit" else None,
                help="the message (default: the last reply)",
            )
        if name in ("send", "edit"):
            q.add_argument("--prompt", required=True, help="the message to send")
        q.add_argument("--model", help="model name or path (default: settings)")
        q.add_argument("--max-tokens", type=int)
        q.add_argument("--temperature", type=float)
        q.add_argument("--seed", type=int)
        q.add_argument("--json", action="store_true", help="print one JSON object at the end")
        q.set_defaults(handler=handler)


def list_(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        found = wb.store.conversations()
    finally:
        wb.close()
    if args.json:
        print_json([{"id": c.id, "title": c.title, "model": c.model} for c in found])
        return 0
    for c in found:
        print(f"{c.id:>5}  {c.title}")
    return 0


def new_(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        c = wb.new_conversation()
    finally:
        wb.close()
    if args.json:
        print_json({"id": c.id, "title": c.title})
    else:
        print(c.id)
    return 0


def show_(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        wb.store.conversation(args.id)  # says so when there is none
        _print_thread(wb.turns.thread(args.id), args.json)
    finally:
        wb.close()
    return 0


def switch_(args: argparse.Namespace) -> int:
    wb = Workbench.open()
    try:
        wb.turns.select(args.message)
        _print_thread(wb.turns.thread(args.id), args.json)
    finally:
        wb.close()
    return 0


def send(args: argparse.Namespace) -> int:
    return _run(args, lambda wb, o: wb.turns.reply(args.id, args.prompt, o))


def regenerate(args: argparse.Namespace) -> int:
    return _run(args, lambda wb, o: wb.turns.regenerate(args.id, args.message, o))


def continue_(args: argparse.Namespace) -> int:
    return _run(args, lambda wb, o: wb.turns.continue_reply(args.id, args.message, o))


def edit(args: argparse.Namespace) -> int:
    return _run(args, lambda wb, o: wb.turns.edit(args.id, args.message, args.prompt, o))


def _run(args: argparse.Namespace, start: Callable[[Workbench, dict[str, Any]], Reply]) -> int:
    """Load the model, start the reply, stream it (Ctrl+C stops it and keeps what was
    written, marked stopped: `continue` goes on from there)."""
    from app.evaluate.usage import UsageLog

    wb = Workbench.open()
    try:
        wb.store.conversation(args.id)
        UsageLog(wb.store).attach(wb)  # counted in `carrel eval usage`, as in the window
        wb.load_model(args.model or wb.settings.model.default)
        values = {"max_tokens": args.max_tokens, "temperature": args.temperature}
        values["seed"] = args.seed
        reply = start(wb, {k: v for k, v in values.items() if v is not None})
        done = stream_reply(reply, quiet=args.json)
        assert done is not None and reply.message is not None
        turn = next(t for t in wb.turns.thread(args.id) if t.message.id == reply.message.id)
        if args.json:
            print_json({**_turn_record(turn), "tokens_per_s": round(done.stats.tokens_per_s, 1)})
        else:
            marks = [m for m in ("stopped" if done.stats.stopped else "", turn.describe()) if m]
            sys.stdout.write(f"\n[message {turn.message.id}{''.join(f', {m}' for m in marks)}]\n")
        return 0
    finally:
        wb.close()


def _turn_record(turn: Turn) -> dict[str, Any]:
    """A message as `--json` prints it; a reply from sources has its markers normalised
    (`text`; as written in `text_as_written`) and its links checked (`app.markers`)."""
    m = turn.message
    checked = check_answer(m.text, m.citations) if m.role == "assistant" else None
    sourced = {"text_as_written": m.text, **checked.as_dict()} if checked and m.citations else {}
    return {
        "id": m.id,
        "role": m.role,
        "text": checked.text if checked else m.text,
        **sourced,
        "model": m.model,
        "stopped": m.stopped,
        "variant": turn.index + 1,
        "variants": list(turn.variants),
    }


def _print_thread(thread: list[Turn], as_json: bool) -> None:
    if as_json:
        print_json([_turn_record(t) for t in thread])
        return
    for t in thread:
        who = "You" if t.message.role == "user" else "Assistant"
        marks = [m for m in (t.describe(), "stopped" if t.message.stopped else "") if m]
        extra = f" ({', '.join(marks)})" if marks else ""
        print(f"[{t.message.id}] {who}{extra}:\n{t.message.text}\n")
