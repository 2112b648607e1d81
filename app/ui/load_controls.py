"""`LoadControls`: how the loaded model is loaded — GPU layers, context length, flash
attention, KV-cache type, threads, batch size — with its fit verdict and memory estimate
following the controls as they move."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from app.engine.devices import SystemReport
from app.library.fit import available_ram
from app.library.load_options import (
    AUTO_LAYERS,
    BATCH_SIZES,
    KV_CACHE_TYPES,
    LoadOptions,
    context_choices,
)
from app.library.registry import ModelInfo
from app.library.verdict import CPU_ONLY, FULL_GPU, PARTIAL, FitEstimate, estimate_fit

GIB = 1024**3
QUANTIZED_KV_TIP = "llama.cpp needs flash attention for a quantized KV cache, so it is on."


class LoadControls(QWidget):
    """The load options of one model. The estimate is arithmetic on the model's header and
    the memory figures of the last `SystemReport` (read by a worker), so moving a control
    never waits on the disk or a device.

    Signals: `applied(str, object)` with the scope ("model": kept in the library for every
    conversation; "conversation": this conversation only) and the `LoadOptions`;
    `estimated(object)` with the new `FitEstimate` (or None) each time a control moves.
    """

    applied = Signal(str, object)
    estimated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info: ModelInfo | None = None
        self._report: SystemReport | None = None
        self._ram_free = 0
        self._contexts: list[int] = [4096]
        self._filling = False
        self.gpu_mode = QComboBox(self)
        self.gpu_mode.addItems(["auto", "none (CPU)", "layers:"])
        self.gpu_layers = QSpinBox(self)
        self.gpu_layers.setRange(1, 999)
        self.context = QSlider(Qt.Orientation.Horizontal, self)
        self.context_label = QLabel("", self)
        self.flash_attn = QCheckBox("Flash attention", self)
        self.kv_type = QComboBox(self)
        self.kv_type.addItems(list(KV_CACHE_TYPES))
        self.threads = QSpinBox(self)
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText("auto")
        self.batch = QComboBox(self)
        self.batch.addItems([str(b) for b in BATCH_SIZES])
        self.fit_label = QLabel("", self)
        self.fit_label.setWordWrap(True)
        # Wrapped text gets no height of its own in a crowded panel: keep room for 2 lines.
        self.fit_label.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 8)
        self.apply_model = QPushButton("Use for this model", self)
        self.apply_conversation = QPushButton("This conversation only", self)
        self._layout()
        for signal in (
            self.gpu_mode.currentIndexChanged,
            self.gpu_layers.valueChanged,
            self.context.valueChanged,
            self.kv_type.currentIndexChanged,
            self.flash_attn.toggled,
            self.batch.currentIndexChanged,
        ):
            signal.connect(self._changed)
        self.apply_model.clicked.connect(lambda: self.applied.emit("model", self.options()))
        self.apply_conversation.clicked.connect(
            lambda: self.applied.emit("conversation", self.options())
        )
        self.setEnabled(False)

    def _layout(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_mode, 1)
        gpu_row.addWidget(self.gpu_layers)
        context_row = QHBoxLayout()
        context_row.addWidget(self.context, 1)
        context_row.addWidget(self.context_label)
        form.addRow("GPU layers", gpu_row)
        form.addRow("Context", context_row)
        form.addRow("KV cache", self.kv_type)
        form.addRow("", self.flash_attn)
        form.addRow("Threads", self.threads)
        form.addRow("Batch", self.batch)
        form.addRow(self.fit_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_model)
        buttons.addWidget(self.apply_conversation)
        form.addRow(buttons)

    # filling -----------------------------------------------------------------------------

    def set_report(self, report: SystemReport, ram_free: int | None = None) -> None:
        """The devices and memory the estimate is made against."""
        self._report = report
        self._ram_free = available_ram() if ram_free is None else ram_free
        self._changed()

    def set_model(self, info: ModelInfo | None, options: LoadOptions | None = None) -> None:
        """Show `options` for `info` (None: no model loaded, the controls are disabled)."""
        self._info = info
        self.setEnabled(info is not None)
        if info is None:
            self.fit_label.setText("")
            return
        options = options or LoadOptions()
        self._filling = True
        try:
            layers = int(info.header.arch_value("block_count") or 0) if info.header else 0
            self.gpu_layers.setRange(1, max(layers + 1, 1))
            if options.gpu_layers == AUTO_LAYERS:
                self.gpu_mode.setCurrentIndex(0)
            elif options.gpu_layers == 0:
                self.gpu_mode.setCurrentIndex(1)
            else:
                self.gpu_mode.setCurrentIndex(2)
                self.gpu_layers.setValue(options.gpu_layers)
            self._contexts = context_choices(info.context_length)
            wanted = min(options.context_length, self._contexts[-1])
            index = min(range(len(self._contexts)), key=lambda i: abs(self._contexts[i] - wanted))
            self.context.setRange(0, len(self._contexts) - 1)
            self.context.setValue(index)
            self.kv_type.setCurrentText(options.kv_type)
            self.flash_attn.setChecked(options.flash_attn)
            self.threads.setValue(options.threads)
            self.batch.setCurrentText(str(options.batch_size))
        finally:
            self._filling = False
        self._changed()

    # reading -----------------------------------------------------------------------------

    def options(self) -> LoadOptions:
        mode = self.gpu_mode.currentIndex()
        layers = AUTO_LAYERS if mode == 0 else 0 if mode == 1 else self.gpu_layers.value()
        return LoadOptions(
            context_length=self._contexts[self.context.value()],
            threads=self.threads.value(),
            gpu_layers=layers,
            flash_attn=self.flash_attn.isChecked(),
            kv_type=self.kv_type.currentText(),
            batch_size=int(self.batch.currentText()),
        )

    def estimate(self) -> FitEstimate | None:
        """The fit of the model with the options shown, against the last report's figures."""
        info = self._info
        if info is None or info.header is None:
            return None
        opts = self.options()
        return estimate_fit(
            info.header,
            info.size,
            opts.context_length,
            kv_type=opts.kv_type,
            flash_attn=opts.uses_flash_attn,
            n_ubatch=min(opts.batch_size, opts.context_length),
            ram_free=self._ram_free or None,
            gpu=self._report.gpu_memory if self._report else None,
        )

    def _changed(self) -> None:
        self.gpu_layers.setEnabled(self.gpu_mode.currentIndex() == 2)
        quantized = self.kv_type.currentText() != "f16"
        self.flash_attn.setToolTip(QUANTIZED_KV_TIP if quantized else "")
        if quantized:
            self.flash_attn.setChecked(True)
        self.flash_attn.setEnabled(not quantized)
        if self._filling:
            return
        self.context_label.setText(f"{self._contexts[self.context.value()]:,}")
        fit = self.estimate()
        self.fit_label.setText(summary(fit) if fit else "")
        self.fit_label.setToolTip(fit.describe() if fit else "")
        self.estimated.emit(fit)


def summary(fit: FitEstimate) -> str:
    """The verdict in a line or two for the narrow panel (the whole estimate is its tooltip):
    device memory for a GPU verdict, RAM otherwise."""
    cache = f", {fit.kv_type} KV cache" if fit.kv_type != "f16" else ""
    at = f"at {fit.n_ctx:,} context{cache}"
    on_device = (fit.weights + fit.kv_cache + fit.compute) / GIB
    vram = (fit.vram_free or 0) / GIB
    if fit.verdict == FULL_GPU:
        return f"Fits on {fit.device}: ~{on_device:.2f} of {vram:.1f} GiB free, {at}"
    if fit.verdict == PARTIAL:
        layers = f"{fit.gpu_layers} of {fit.layers} layers"
        return f"{layers} fit on {fit.device} ({vram:.1f} GiB free), {at}"
    ram = f"~{fit.total / GIB:.2f} of {fit.ram_free / GIB:.1f} GiB RAM free"
    if fit.verdict == CPU_ONLY:
        return f"On the CPU: {ram}, {at}"
    return f"Won't fit: {ram}, {at}. Lower the context or pick a smaller quant."
