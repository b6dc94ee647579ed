"""Read kappa views from Python, in place, through the C ABI (libkappa_view.so) and ctypes.

    import kappa_view
    with kappa_view.open("q3") as view:            # namespace "default"; or open(name, ns=...)
        view.wait_for(offset)                       # until the view has applied that log offset
        row = view[42]                              # {"auction": 42, "bids": 17, "offset": 901}
        42 in view, len(view), view.applied_offset, view.watermark, view.version
        for key, row in view.items():               # streamed a chunk at a time
            ...
        columns = view.to_numpy()                   # {"auction": array([...]), ...}
        frame = view.to_pandas()                    # with pandas installed

A view is a read-only mapping. Its keys: a keyed view's keys (int for integer keys, str for
bytes keys), a windowed view's (key, window_start) pairs, a top-K list's ranks (0 = best), a
result list's row indexes. Rows come back as dicts: the key under the view's key name (and
"window_start", "rank" or "index"), each value field by its name (i64/u64 as int, f64 as float,
strings as str), and "offset", the log offset of the entry's last update. get() gives None for a
missing key, view[key] raises KeyError. A stale entry (its writer died mid-update), a retired
view or a wrong call raises ViewError, which says what to do instead.

The library is found through $KAPPA_VIEW_LIB, then next to this file, then in the lib directory
of the prefix this file is installed under, then the system loader. No compiled extension: only
the standard library (NumPy and pandas for to_numpy() and to_pandas()).
"""

import ctypes
import ctypes.util
import os
import struct
import time

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
    here = os.path.dirname(os.path.abspath(__file__))
    # Installed: <prefix>/share/kappa/python/kappa_view.py and <prefix>/lib*/libkappa_view.so.
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    candidates = [path, os.environ.get("KAPPA_VIEW_LIB"), os.path.join(here, "libkappa_view.so")]
    candidates += [os.path.join(prefix, d, "libkappa_view.so")
                   for d in ("lib", "lib64", os.path.join("lib", "x86_64-linux-gnu"))]
    candidates.append(ctypes.util.find_library("kappa_view"))
    errors = []
    for candidate in candidates:
        if not candidate or (os.path.sep in candidate and not os.path.exists(candidate)):
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
        "kv_scan_from": (ctypes.c_int, [p, u64, u64, _ROW_FN, p, pu64]),
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
        self._handle = None
        handle = ctypes.c_void_p()
        _check(self._lib, self._lib.kv_open(ns.encode(), name.encode(), ctypes.byref(handle)))
        self._handle = handle
        self.name = name
        self._load_schema()

    def _load_schema(self):
        info = _Info()
        _check(self._lib, self._lib.kv_get_info(self._handle, ctypes.byref(info)))
        self._version = info.version
        self._kind = info.kind
        self._key_type = info.key_type
        self._value_size = info.value_size
        self.key_name = self._lib.kv_key_name(self._handle).decode()
        self.fields = []
        formats = {FIELD_I64: "<q", FIELD_U64: "<Q", FIELD_F64: "<d"}
        for i in range(info.field_count):
            f = _Field()
            _check(self._lib, self._lib.kv_get_field(self._handle, i, ctypes.byref(f)))
            self.fields.append((f.name.decode(), f.type, f.size, f.offset, formats.get(f.type)))

    def _raw_info(self):
        if not self._handle:
            raise ViewError(BAD_ARGUMENT, "%s is closed" % self.name)
        info = _Info()
        _check(self._lib, self._lib.kv_get_info(self._handle, ctypes.byref(info)))
        return info

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
        if self._kind == 2 and window_start is None:
            raise ViewError(WRONG_KIND, "%s is windowed: pass window_start= or use windows(key)" % self.name)
        if self._kind in (3, 4):
            raise ViewError(WRONG_KIND, "%s is a %s: use view[%s], %s or scan()" % (
                self.name, "top-K list" if self._kind == 3 else "result list",
                "rank" if self._kind == 3 else "index", "top()" if self._kind == 3 else "rows()"))
        if window_start is not None and self._kind != 2:
            raise ViewError(WRONG_KIND, "%s is not windowed: leave out window_start" % self.name)
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


    # ---- progress ----

    @property
    def applied_offset(self):
        """The log offset up to which the writer has applied records."""
        return self._raw_info().applied_offset

    @property
    def watermark(self):
        """The writer's event-time watermark, in nanoseconds since the epoch."""
        return self._raw_info().watermark_ns

    @property
    def version(self):
        """The version read now (it follows flips)."""
        return self._raw_info().version

    @property
    def kind(self):
        return KIND_NAMES.get(self._raw_info().kind, "unknown")

    def wait_for(self, offset, timeout=None):
        """Blocks until the view has applied the log up to `offset` (a record's offset: until it
        is applied); True then, False if `timeout` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.0005
        while self._raw_info().applied_offset <= offset:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(pause * 2, 0.05)
        return True

    # ---- streaming ----

    def iter_rows(self, chunk=4096):
        """Every row, as scan() gives them, read `chunk` rows at a time: a large view is never
        held in memory whole."""
        self._refresh_schema()
        kind = self._kind
        position = 0
        while position != 2 ** 64 - 1:
            rows = []

            def collect(row, _context):
                rows.append(self._row(row, kind))
                return 0

            next_position = ctypes.c_uint64()
            status = self._lib.kv_scan_from(self._handle, position, chunk, _ROW_FN(collect), None,
                                            ctypes.byref(next_position))
            yield from rows
            _check(self._lib, status, allow_not_found=True)
            position = next_position.value

    # ---- the read-only mapping ----

    def _key_of(self, row):
        if self._kind == 2:
            return (row[self.key_name], row["window_start"])
        if self._kind == 3:
            return row["rank"]
        if self._kind == 4:
            return row["index"]
        return row[self.key_name]

    def _lookup(self, key):
        """The row of a mapping key, or None."""
        self._refresh_schema()
        if self._kind == 2:
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ViewError(WRONG_KIND, "%s is windowed: its keys are (key, window_start) pairs; pass "
                                "view[key, window_start], get(key, window_start=...), or use "
                                "windows(key)" % self.name)
            return self.get(key[0], window_start=key[1])
        if self._kind in (3, 4):
            if not isinstance(key, int) or isinstance(key, bool):
                raise ViewError(WRONG_KIND, "%s is a %s: its keys are %s (int), not %r" % (
                    self.name, "top-K list" if self._kind == 3 else "result list",
                    "ranks" if self._kind == 3 else "row indexes", key))
            if self._kind == 3:
                rows = self.top()
                return rows[key] if 0 <= key < len(rows) else None
            rows, _ = self.rows(key, 1)
            return rows[0] if rows and rows[0]["index"] == key else None
        if self._key_type == KEY_U64 and not isinstance(key, int):
            raise ViewError(BAD_ARGUMENT, "%s has integer keys (%s), not %r" % (self.name, self.key_name, key))
        if self._key_type == KEY_BYTES and not isinstance(key, (str, bytes)):
            raise ViewError(BAD_ARGUMENT, "%s has text keys (%s), not %r" % (self.name, self.key_name, key))
        return self.get(key)

    def __getitem__(self, key):
        row = self._lookup(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key):
        try:
            return self._lookup(key) is not None
        except ViewError as e:
            if e.status in (WRONG_KIND, BAD_ARGUMENT):
                return False
            raise

    def __len__(self):
        info = self._raw_info()
        if info.kind == 4:
            return min(info.list_count, info.capacity)
        if info.kind == 3:
            return len(self.top())
        return info.entries

    def __iter__(self):
        for row in self.iter_rows():
            yield self._key_of(row)

    def keys(self):
        return iter(self)

    def values(self):
        return self.iter_rows()

    def items(self):
        for row in self.iter_rows():
            yield self._key_of(row), row

    # ---- columnar export ----

    def to_numpy(self):
        """The whole view as columns: a dict of NumPy arrays, one per column of its rows (the
        key, window_start/rank/index, each field, offset), integers as int64/uint64, f64 as
        float64, strings as str."""
        try:
            import numpy
        except ImportError:
            raise ViewError(ERROR, "to_numpy() needs NumPy (Debian: apt install python3-numpy)") from None
        self._refresh_schema()
        names = []
        types = {}
        if self._kind in (1, 2, 3) and self._key_type != KEY_NONE:
            names.append(self.key_name)
            types[self.key_name] = numpy.uint64 if self._key_type == KEY_U64 else str
        place = {2: "window_start", 3: "rank", 4: "index"}.get(self._kind)
        if place:
            names.append(place)
            types[place] = numpy.int64 if place == "window_start" else numpy.uint64
        for name, ftype, _, _, _ in self.fields:
            names.append(name)
            types[name] = {FIELD_I64: numpy.int64, FIELD_U64: numpy.uint64, FIELD_F64: numpy.float64}.get(ftype, str)
        names.append("offset")
        types["offset"] = numpy.uint64
        columns = {name: [] for name in names}
        for row in self.iter_rows():
            for name in names:
                columns[name].append(row[name])
        return {name: numpy.array(values, dtype=types[name]) for name, values in columns.items()}

    def to_pandas(self):
        """The whole view as a pandas DataFrame (columns as to_numpy() gives them)."""
        try:
            import pandas
        except ImportError:
            raise ViewError(ERROR, "to_pandas() needs pandas (Debian: apt install python3-pandas)") from None
        return pandas.DataFrame(self.to_numpy())


def open(name, ns="default", library=None):  # noqa: A001 - mirrors the builtin on purpose
    """Opens view `name` ("name" follows its alias, "name@version" pins a version)."""
    return View(name, ns, library)
