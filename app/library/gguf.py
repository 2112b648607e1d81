"""Read a GGUF file's header: metadata, tensor table, and the size the file must have.

Pure Python and streaming: it reads only the header (a few MB at most, mostly the
tokenizer's vocabulary), so it works on a local file or on the first bytes of a remote one.
With a `budget` it reads even less: numeric arrays are seeked past, and once the model's
shape keys are known, a header that would not fit in the budget (a 262k-token vocabulary)
is cut at its first large array and returned with `complete=False`.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from app.errors import NotAGGUFError, TruncatedGGUFError
from app.library.ggml_types import FILE_TYPES, GGML_TYPES

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# Arrays longer than this (the tokenizer's vocabulary) are skipped, not kept: only their
# length is recorded, which is all the registry and the fit estimate need.
MAX_KEPT_ARRAY = 64

# GGUF metadata value types.
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("<B", 1),
    1: ("<b", 1),
    2: ("<H", 2),
    3: ("<h", 2),
    4: ("<I", 4),
    5: ("<i", 4),
    6: ("<f", 4),
    7: ("<?", 1),
    10: ("<Q", 8),
    11: ("<q", 8),
    12: ("<d", 8),
}
_STRING = 8
_ARRAY = 9
# The smallest tensor-table entry: name length + 1-char name, n_dims, one dim, type, offset.
_MIN_TENSOR_ENTRY = 8 + 1 + 4 + 8 + 4 + 8
# Strings of an array read before its total size is extrapolated against the budget.
_SAMPLE_STRINGS = 512


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the table: its name, shape, ggml type and offset in the data section."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def n_bytes(self) -> int | None:
        spec = GGML_TYPES.get(self.ggml_type)
        if spec is None:
            return None
        _, block, size = spec
        return self.n_elements // block * size


@dataclass
class GGUFHeader:
    """What a GGUF header says about its file. `metadata` keeps every key; arrays longer
    than `MAX_KEPT_ARRAY` are replaced by their length (see `array_lengths`).

    A header read with a budget may be cut short (`complete=False`): then `metadata` holds
    the keys before the first large array (plus that array's length), `tensors` is empty,
    and `data_offset` is a lower bound of where the tensor data starts."""

    version: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo]
    data_offset: int
    array_lengths: dict[str, int] = field(default_factory=dict)
    complete: bool = True
    n_tensors: int = 0
    bytes_read: int = 0

    @property
    def alignment(self) -> int:
        value = self.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        return int(value) if isinstance(value, int) and value > 0 else DEFAULT_ALIGNMENT

    @property
    def expected_size(self) -> int:
        """The smallest file size that holds every tensor the table lists."""
        end = self.data_offset
        for t in self.tensors:
            size = t.n_bytes
            end = max(end, self.data_offset + t.offset + (size or 0))
        return end

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def arch_value(self, key: str) -> Any:
        """`{architecture}.{key}`, e.g. `arch_value("context_length")`."""
        return self.metadata.get(f"{self.architecture}.{key}")

    @property
    def file_type(self) -> str:
        ftype = self.metadata.get("general.file_type")
        if isinstance(ftype, int) and ftype in FILE_TYPES:
            return FILE_TYPES[ftype]
        # Older files carry no file_type: name the commonest tensor type instead.
        counts: dict[str, int] = {}
        for t in self.tensors:
            name = GGML_TYPES.get(t.ggml_type, ("?", 1, 1))[0]
            counts[name] = counts.get(name, 0) + t.n_elements
        return max(counts, key=lambda k: counts[k]) if counts else "unknown"

    @property
    def n_params(self) -> int:
        return sum(t.n_elements for t in self.tensors)


class _OutOfReach(Exception):
    """The budgeted read would go past its budget."""


class _Reader:
    """Little-endian reads from a binary stream; an early end raises `EOFError`. With a
    budget, reading past it raises `_OutOfReach` and skips seek when the stream can."""

    def __init__(self, stream: IO[bytes], budget: int | None = None) -> None:
        self._stream = stream
        self.pos = 0
        self.budget = budget
        self.consumed = 0
        self._seek = budget is not None and stream.seekable()
        # Called with (key, count, item type) when a large array starts (budgeted reads).
        self.on_large_array: Any = None

    def expect(self, n: int) -> None:
        """Raise `_OutOfReach` now if reading `n` more bytes would pass the budget."""
        if self.budget is not None and self.consumed + n > self.budget:
            raise _OutOfReach

    def read(self, n: int) -> bytes:
        self.expect(n)
        data = self._stream.read(n)
        if len(data) != n:
            raise EOFError
        self.pos += n
        self.consumed += n
        return data

    def unpack(self, fmt: str, size: int) -> Any:
        return struct.unpack(fmt, self.read(size))[0]

    def u32(self) -> int:
        return int(self.unpack("<I", 4))

    def u64(self) -> int:
        return int(self.unpack("<Q", 8))

    def string(self) -> str:
        return self.read(self.u64()).decode("utf-8", errors="replace")

    def skip(self, n: int, *, numeric: bool = False) -> None:
        # Reading through (not seeking) keeps this usable on a non-seekable HTTP stream;
        # a budgeted read seeks past numeric arrays, whose size is known, when it can.
        if numeric and self._seek:
            self._stream.seek(n, io.SEEK_CUR)
            self.pos += n
            return
        while n > 0:
            chunk = min(n, 1 << 20)
            self.read(chunk)
            n -= chunk


def _value(r: _Reader, vtype: int, key: str, lengths: dict[str, int]) -> Any:
    if vtype in _SCALARS:
        fmt, size = _SCALARS[vtype]
        return r.unpack(fmt, size)
    if vtype == _STRING:
        return r.string()
    if vtype == _ARRAY:
        itype = r.u32()
        count = r.u64()
        if count > MAX_KEPT_ARRAY:
            lengths[key] = count
            if r.on_large_array is not None:
                r.on_large_array(key, count, itype)
            if itype in _SCALARS:
                r.skip(count * _SCALARS[itype][1], numeric=True)
            elif itype == _STRING:
                start = r.consumed
                for i in range(count):
                    r.skip(r.u64())
                    if i + 1 == _SAMPLE_STRINGS:  # will the whole array fit the budget?
                        r.expect((r.consumed - start) * (count - i - 1) // (i + 1))
            else:
                for _ in range(count):
                    _value(r, itype, key, {})
            return count
        return [_value(r, itype, key, lengths) for _ in range(count)]
    raise ValueError(f"unknown metadata type {vtype} for key {key}")


def _shape_known(metadata: dict[str, Any]) -> bool:
    """The keys the memory estimate cannot do without have been read."""
    arch = metadata.get("general.architecture")
    needed = ("block_count", "embedding_length", "attention.head_count")
    return isinstance(arch, str) and all(f"{arch}.{k}" in metadata for k in needed)


def read_header_from(
    stream: IO[bytes], name: str = "file", *, budget: int | None = None
) -> GGUFHeader:
    """Parse a header from a stream positioned at the file's first byte.

    Raises `ValueError` if the bytes are not GGUF and `EOFError` if they end too soon;
    `read_header` turns these into errors a person can act on.

    With `budget` (bytes), numeric arrays are seeked past on a seekable stream, and a
    header that would read more than the budget (or whose stream ends) is returned cut at
    its first large array after the model's shape keys (see `GGUFHeader.complete`); with
    no such cut point, `ValueError` (over budget) or `EOFError` is raised.
    """
    r = _Reader(stream, budget)
    magic = r.read(4)
    if magic != MAGIC:
        raise ValueError(f"it starts with {magic!r}, not the GGUF signature")
    version = r.u32()
    if version not in (2, 3):
        raise ValueError(f"GGUF version {version} is not supported (2 and 3 are)")
    n_tensors = r.u64()
    n_kv = r.u64()
    if n_tensors > 1_000_000 or n_kv > 1_000_000:
        raise ValueError("its header declares an impossible number of entries")
    metadata: dict[str, Any] = {}
    lengths: dict[str, int] = {}
    cut: list[GGUFHeader] = []

    def at_large_array(key: str, count: int, itype: int) -> None:
        if cut or not _shape_known(metadata):
            return
        item = 8 if itype == _STRING else _SCALARS.get(itype, ("", 1))[1]
        low = r.pos + count * item + n_tensors * _MIN_TENSOR_ENTRY
        partial = GGUFHeader(
            version, {**metadata, key: count}, [], 0, {**lengths, key: count}, False, n_tensors
        )
        align = partial.alignment
        partial.data_offset = (low + align - 1) // align * align
        cut.append(partial)

    if budget is not None:
        r.on_large_array = at_large_array
    try:
        for _ in range(n_kv):
            key = r.string()
            metadata[key] = _value(r, r.u32(), key, lengths)
        tensors = _tensor_table(r, n_tensors)
    except (_OutOfReach, EOFError) as exc:
        if not cut:
            if isinstance(exc, EOFError):
                raise
            raise ValueError(
                f"its header passes {budget:,} bytes before the model's shape is stated"
            ) from None
        cut[0].bytes_read = r.consumed
        return cut[0]
    header = GGUFHeader(version, metadata, tensors, 0, lengths, True, n_tensors, r.consumed)
    align = header.alignment
    header.data_offset = (r.pos + align - 1) // align * align
    return header


def _tensor_table(r: _Reader, n_tensors: int) -> list[TensorInfo]:
    tensors: list[TensorInfo] = []
    for _ in range(n_tensors):
        tname = r.string()
        n_dims = r.u32()
        shape = tuple(r.u64() for _ in range(n_dims))
        ttype = r.u32()
        offset = r.u64()
        tensors.append(TensorInfo(tname, shape, ttype, offset))
    return tensors


class _Blocks:
    """Reads a file in blocks of `BLOCK` bytes and serves the parser's small reads from
    memory. A buffered file released the GIL at every 8 KB refill, and half a million tiny
    reads through one (a 262k-token vocabulary) starved the GUI thread for 100-200 ms at a
    time; a memory map held the GIL through each page fault of a file not in the page
    cache (300-430 ms at a time reading the default models' headers cold, the window
    frozen meanwhile). A block is read with the GIL released, once per 4 MB, and sliced
    with it held, so Python's ordinary 5 ms switching applies."""

    BLOCK = 4 << 20

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self._buf = b""
        self._start = 0  # where `_buf` begins in the file
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            self._fill(0)
            rest = self._buf[self._pos - self._start :] + self._f.read()
            self._pos += len(rest)
            self._buf, self._start = b"", self._pos
            return rest
        if self._pos + n > self._start + len(self._buf):
            self._fill(n)
        at = self._pos - self._start
        data = self._buf[at : at + n]
        self._pos += len(data)
        return data

    def _fill(self, n: int) -> None:
        """Keep what is left of the block from the position on, and read the next one."""
        tail = self._buf[self._pos - self._start :]
        self._f.seek(self._start + len(self._buf))
        self._buf = tail + self._f.read(max(self.BLOCK, n - len(tail)))
        self._start = self._pos

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            offset += self._f.seek(0, io.SEEK_END)
        elif whence == io.SEEK_CUR:
            offset += self._pos
        if not self._start <= offset <= self._start + len(self._buf):
            self._buf, self._start = b"", offset
        self._pos = offset
        return self._pos

    def tell(self) -> int:
        return self._pos


def read_header(path: Path, *, check_size: bool = True) -> GGUFHeader:
    """Read and validate the header of a local GGUF file.

    Raises `NotAGGUFError` for anything that is not GGUF and `TruncatedGGUFError` when the
    file is shorter than its tensor table requires.
    """
    size = path.stat().st_size
    if size == 0:
        raise NotAGGUFError(path, "the file is empty")
    with path.open("rb", buffering=0) as f:
        try:
            header = read_header_from(cast(IO[bytes], _Blocks(f)), path.name)
        except ValueError as exc:
            raise NotAGGUFError(path, str(exc)) from None
        except (EOFError, UnicodeDecodeError, struct.error, MemoryError, OverflowError):
            raise TruncatedGGUFError(path, size, None) from None
    if check_size and size < header.expected_size:
        raise TruncatedGGUFError(path, size, header.expected_size)
    return header
