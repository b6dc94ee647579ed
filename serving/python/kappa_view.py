"""Read kappa views from Python, in place, through the C ABI (libkappa_view.so) and ctypes.

    import kappa_view
    with kappa_view.open("q5") as view:            # namespace "default"; or open(name, ns=...)
        print(view.info()["applied_offset"])
        row = view.get(42)                          # {"auction": 42, "bids": 17, "offset": 901}
        for row in view.scan():
            ...

Values come back as dicts: the key under the view's key name, each value field by its name
(i64/u64 as int, f64 as float, strings as str), and "offset", the log offset of the entry's
last update. A missing key gives None. A stale entry (its writer died mid-update), a retired
view or a wrong call raises ViewError.

The library is found through $KAPPA_VIEW_LIB, then next to this file, then the system loader.
No compiled extension: only the standard library.
"""

import ctypes
import ctypes.util
import os
import struct

__all__ = ["open", "View", "ViewError", "load_library"]

OK, NOT_FOUND, STALE, GONE, WRONG_KIND, BAD_ARGUMENT, BUSY, ERROR = range(8)
KIND_NAMES = {1: "keyed", 2: "windowed", 3: "topk", 4: "list"}
KEY_NONE, KEY_U64, KEY_BYTES = 0, 1, 2
FIELD_I64, FIELD_U64, FIELD_F64, FIELD_STRING = 1, 2, 3, 4


class ViewError(Exception):
    """A kappa view call failed; .status holds the KV_* code."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _Info(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_uint32), ("key_type", ctypes.c_uint32), ("key_size", ctypes.c_uint32),
        ("value_size", ctypes.c_uint32), ("field_count", ctypes.c_uint32), ("version", ctypes.c_uint32),
        ("generation", ctypes.c_uint32), ("alias_epoch", ctypes.c_uint32), ("capacity", ctypes.c_uint64),
        ("applied_offset", ctypes.c_uint64), ("watermark_ns", ctypes.c_int64),
        ("writer_pid", ctypes.c_uint64), ("writer_alive", ctypes.c_int32), ("shard_count", ctypes.c_uint32),
        ("heartbeat_unix_ns", ctypes.c_int64), ("entries", ctypes.c_uint64), ("updates", ctypes.c_uint64),
        ("list_count", ctypes.c_uint64), ("window_size_ns", ctypes.c_int64),
        ("window_slide_ns", ctypes.c_int64), ("windows_per_key", ctypes.c_uint32),
        ("order_field", ctypes.c_uint32), ("order_descending", ctypes.c_int32), ("reserved1", ctypes.c_int32),
    ]


class _Field(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("type", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("offset", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]


class _Row(ctypes.Structure):
    _fields_ = [("key_u64", ctypes.c_uint64), ("key_bytes", ctypes.POINTER(ctypes.c_char)),
                ("key_len", ctypes.c_size_t), ("window_start", ctypes.c_int64), ("index", ctypes.c_uint64),
                ("offset", ctypes.c_uint64), ("value", ctypes.c_void_p), ("value_size", ctypes.c_size_t)]


_ROW_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Row), ctypes.c_void_p)
_lib = None


def load_library(path=None):
    """Loads libkappa_view.so (once) and declares its functions."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    candidates = [path, os.environ.get("KAPPA_VIEW_LIB"),
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "libkappa_view.so"),
                  ctypes.util.find_library("kappa_view")]
    errors = []
    for candidate in candidates:
        if not candidate:
            continue
        try:
            lib = ctypes.CDLL(candidate)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise ViewError(ERROR, "cannot load libkappa_view.so (set KAPPA_VIEW_LIB): " + "; ".join(errors))
    p, u32, u64, i64, sz = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int64, ctypes.c_size_t
    pu64 = ctypes.POINTER(ctypes.c_uint64)
    sig = {
        "kv_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(p)]),
        "kv_close": (None, [p]),
        "kv_last_error": (ctypes.c_char_p, []),
        "kv_status_name": (ctypes.c_char_p, [ctypes.c_int]),
        "kv_get_info": (ctypes.c_int, [p, ctypes.POINTER(_Info)]),
        "kv_get_field": (ctypes.c_int, [p, u32, ctypes.POINTER(_Field)]),
        "kv_key_name": (ctypes.c_char_p, [p]),
        "kv_get_u64": (ctypes.c_int, [p, u64, p, sz, pu64]),
        "kv_get_bytes": (ctypes.c_int, [p, ctypes.c_char_p, sz, p, sz, pu64]),
        "kv_get_window_u64": (ctypes.c_int, [p, u64, i64, p, sz, pu64]),
        "kv_get_window_bytes": (ctypes.c_int, [p, ctypes.c_char_p, sz, i64, p, sz, pu64]),
        "kv_windows_u64": (ctypes.c_int, [p, u64, _ROW_FN, p]),
        "kv_windows_bytes": (ctypes.c_int, [p, ctypes.c_char_p, sz, _ROW_FN, p]),
        "kv_scan": (ctypes.c_int, [p, _ROW_FN, p]),
        "kv_topk": (ctypes.c_int, [p, _ROW_FN, p]),
        "kv_list_rows": (ctypes.c_int, [p, u64, u64, _ROW_FN, p, pu64]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _lib = lib
    return lib


def _check(lib, status, allow_not_found=False):
    if status == OK or (allow_not_found and status == NOT_FOUND):
        return status
    raise ViewError(status, (lib.kv_last_error() or b"").decode("utf-8", "replace")
                    or lib.kv_status_name(status).decode())


class View:
    """An open view. Use it from one thread at a time; close it (or use `with`) when done."""

    def __init__(self, name, ns="default", library=None):
        self._lib = load_library(library)
        handle = ctypes.c_void_p()
        _check(self._lib, self._lib.kv_open(ns.encode(), name.encode(), ctypes.byref(handle)))
        self._handle = handle
        self._load_schema()

    def _load_schema(self):
        info = _Info()
        _check(self._lib, self._lib.kv_get_info(self._handle, ctypes.byref(info)))
        self._version = info.version
        self._key_type = info.key_type
        self._value_size = info.value_size
        self.key_name = self._lib.kv_key_name(self._handle).decode()
        self.fields = []
        formats = {FIELD_I64: "<q", FIELD_U64: "<Q", FIELD_F64: "<d"}
        for i in range(info.field_count):
            f = _Field()
            _check(self._lib, self._lib.kv_get_field(self._handle, i, ctypes.byref(f)))
            self.fields.append((f.name.decode(), f.type, f.size, f.offset, formats.get(f.type)))

    def close(self):
        if self._handle:
            self._lib.kv_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    # ---- decoding ----

    def _decode(self, raw):
        out = {}
        for name, ftype, size, offset, fmt in self.fields:
            if ftype == FIELD_STRING:
                out[name] = raw[offset:offset + size].split(b"\0", 1)[0].decode("utf-8", "replace")
            else:
                out[name] = struct.unpack_from(fmt, raw, offset)[0]
        return out

    def _row(self, row, kind):
        r = row.contents
        raw = ctypes.string_at(r.value, r.value_size)
        out = {}
        if self._key_type == KEY_U64:
            out[self.key_name] = r.key_u64
        elif self._key_type == KEY_BYTES:
            out[self.key_name] = ctypes.string_at(r.key_bytes, r.key_len).decode("utf-8", "replace")
        if kind == 2:
            out["window_start"] = r.window_start
        elif kind == 3:
            out["rank"] = r.index
        elif kind == 4:
            out["index"] = r.index
        out.update(self._decode(raw))
        out["offset"] = r.offset
        return out

    def _rows(self, call, *args):
        kind = self.info()["kind_code"]
        rows = []

        def collect(row, _context):
            rows.append(self._row(row, kind))
            return 0

        status = call(self._handle, *args, _ROW_FN(collect), None)
        return status, rows

    def _refresh_schema(self):
        info = _Info()
        _check(self._lib, self._lib.kv_get_info(self._handle, ctypes.byref(info)))
        if info.version != self._version:  # followed a flip: the schema may differ
            self._load_schema()

    # ---- reads ----

    def info(self):
        """The view's description and progress, as a dict."""
        info = _Info()
        _check(self._lib, self._lib.kv_get_info(self._handle, ctypes.byref(info)))
        out = {name: getattr(info, name) for name, _ in _Info._fields_ if not name.startswith("reserved")}
        out["kind_code"] = info.kind
        out["kind"] = KIND_NAMES.get(info.kind, "unknown")
        out["writer_alive"] = bool(info.writer_alive)
        out["key_name"] = self.key_name
        out["fields"] = [(name, {1: "i64", 2: "u64", 3: "f64", 4: "string"}[t], size)
                         for name, t, size, _, _ in self.fields]
        return out

    def get(self, key, window_start=None):
        """The row of `key` (int for u64 keys, str or bytes for bytes keys), or None. For a
        windowed view, give window_start."""
        self._refresh_schema()
        buf = ctypes.create_string_buffer(max(self._value_size, 8))
        offset = ctypes.c_uint64()
        if isinstance(key, str):
            key = key.encode()
        if isinstance(key, bytes):
            if window_start is None:
                status = self._lib.kv_get_bytes(self._handle, key, len(key), buf, len(buf), ctypes.byref(offset))
            else:
                status = self._lib.kv_get_window_bytes(self._handle, key, len(key), window_start, buf, len(buf),
                                                       ctypes.byref(offset))
        elif window_start is None:
            status = self._lib.kv_get_u64(self._handle, key, buf, len(buf), ctypes.byref(offset))
        else:
            status = self._lib.kv_get_window_u64(self._handle, key, window_start, buf, len(buf),
                                                 ctypes.byref(offset))
        if _check(self._lib, status, allow_not_found=True) == NOT_FOUND:
            return None
        out = {self.key_name: key.decode("utf-8", "replace") if isinstance(key, bytes) else key}
        if window_start is not None:
            out["window_start"] = window_start
        out.update(self._decode(buf.raw))
        out["offset"] = offset.value
        return out

    def windows(self, key):
        """Every retained window of `key` in a windowed view, oldest first ([] if none)."""
        self._refresh_schema()
        if isinstance(key, str):
            key = key.encode()
        if isinstance(key, bytes):
            status, rows = self._rows(self._lib.kv_windows_bytes, key, len(key))
        else:
            status, rows = self._rows(self._lib.kv_windows_u64, key)
        _check(self._lib, status, allow_not_found=True)
        return rows

    def scan(self):
        """Every row: keyed and windowed in slot order, top-K best first, lists oldest first."""
        self._refresh_schema()
        status, rows = self._rows(self._lib.kv_scan)
        _check(self._lib, status)
        return rows

    def top(self):
        """A top-K view's list, best first, read as one snapshot."""
        self._refresh_schema()
        status, rows = self._rows(self._lib.kv_topk)
        _check(self._lib, status)
        return rows

    def rows(self, start=0, limit=2 ** 63):
        """A list view's retained rows from index `start` on, oldest first, at most `limit`;
        returns (rows, the index to continue from)."""
        self._refresh_schema()
        rows = []

        def collect(row, _context):
            rows.append(self._row(row, 4))
            return 0

        next_index = ctypes.c_uint64()
        status = self._lib.kv_list_rows(self._handle, start, limit, _ROW_FN(collect), None,
                                        ctypes.byref(next_index))
        _check(self._lib, status)
        return rows, next_index.value


def open(name, ns="default", library=None):  # noqa: A001 - mirrors the builtin on purpose
    """Opens view `name` ("name" follows its alias, "name@version" pins a version)."""
    return View(name, ns, library)
