"""What the main window shows and keeps about how the loaded model is loaded: where it runs
(llama.cpp's own report, in the status bar and the model panel) and the load options kept
for the model or for one conversation (its params' "load" entry)."""

from __future__ import annotations

from typing import Any

from app.library.load_options import LoadOptions
from app.ui.model_panel import ModelPanel
from app.ui.widgets import StatusBar
from app.workbench import Workbench


def show_placement(wb: Workbench, status: StatusBar, panel: ModelPanel) -> None:
    """Where the model runs in the status bar and the panel; its options in the controls."""
    placement, backend = wb.placement, wb.backend
    status.set_runs_on(
        placement.describe() if placement else "",
        placement.where_layers_went() if placement else "",
    )
    panel.show_placement(placement)
    panel.controls.set_model(
        backend.info if backend else None, backend.options if backend else None
    )


def show_options(wb: Workbench, panel: ModelPanel, conversation_id: int | None) -> None:
    """The options the loaded model would load with in this conversation, in the controls
    (they take effect, by a reload, when the conversation's next reply starts)."""
    backend = wb.backend
    if backend is not None:
        options = wb.load_options(backend.info.name, conversation_load(wb, conversation_id))
        panel.controls.set_model(backend.info, options)


def conversation_load(wb: Workbench, conversation_id: int | None) -> dict[str, Any] | None:
    """A conversation's own load options (None: the model's own apply)."""
    if conversation_id is None:
        return None
    load = wb.store.conversation(conversation_id).params.get("load")
    return dict(load) if isinstance(load, dict) else None


def keep_load_options(
    wb: Workbench, model: str, conversation_id: int | None, scope: str, options: LoadOptions
) -> None:
    """Keep `options` for the conversation only ("conversation": just where they differ
    from the model's own, so later changes to the model's still reach it), or for the
    model in the library ("model"; the current conversation's own options are dropped, so
    what was applied is what it loads with)."""
    conversation = wb.store.conversation(conversation_id) if conversation_id is not None else None
    params = dict(conversation.params) if conversation is not None else {}
    if scope == "conversation":
        own = wb.load_options(model).kept()
        params["load"] = {k: v for k, v in options.kept().items() if own[k] != v}
    else:
        wb.library.save_load_options(model, options)
        params.pop("load", None)
    if conversation_id is not None:
        if not params.get("load"):
            params.pop("load", None)
        wb.store.update_conversation(conversation_id, params=params)
