"""`Constraints`: what a reply must obey beyond sampling — stop strings and a grammar.

The local server needs both: OpenAI's `stop` parameter, and `response_format` / forced tool
calls, which llama.cpp enforces token by token with a GBNF grammar so the output always
parses; and its `/v1/completions` needs a prompt taken as it is (`raw`). The grammar
travels as text and is compiled on the model's owner thread, like every other call into
llama.cpp.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constraints:
    """Stop strings (the reply ends before any of them) and a GBNF grammar the reply's
    tokens must follow (empty: none)."""

    stop: tuple[str, ...] = ()
    grammar: str = ""
    # The last message's text is the prompt as it is, without the chat template (the
    # server's `/v1/completions`, which continues text instead of answering a turn).
    raw: bool = False

    @property
    def empty(self) -> bool:
        return not self.stop and not self.grammar and not self.raw


NONE = Constraints()
