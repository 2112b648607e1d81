"""Errors of running a model on a device, each with a message that says what happened."""

from __future__ import annotations

from app.errors import CarrelError


class DeviceLostError(CarrelError):
    """The GPU stopped computing between or during replies (driver reset, eGPU unplugged):
    llama.cpp's decode returned an error while layers were on the device. The model is
    reloaded on the CPU before the next reply is started."""

    def __init__(self, device: str, detail: str) -> None:
        super().__init__(
            f"The GPU ({device}) stopped working during the reply (llama.cpp: {detail}). "
            "Carrel is reloading the model on the CPU; send your message again."
        )
        self.device = device
