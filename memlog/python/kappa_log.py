"""Append records to kappa logs from Python, through the C ABI (libkappa_log.so) and ctypes.

    import kappa_log
    with kappa_log.open("clicks") as log:        # a path, or a bare name in $KAPPA_DATA_DIR
        log.append(b"any bytes")                 # type 0, its bytes as they are
        log.append({"user": 7, "page": "home", "ms": 1.5, "n": 1}, type="click")
        log.append_batch([{"user": 8, "page": "a", "ms": 2.0, "n": 1},
                          {"user": 9, "page": "b", "ms": 0.5, "n": 2}], type="click")

A dict is encoded through the log's catalog (LOG.types; declare a type with 'kappa log schema
LOG add NAME FIELD:TYPE...'): every field of the type by its name (int for i64 and u64, int or
float for f64, str or bytes for strings, at most the field's size in UTF-8), and the type's
tail, if it has one, under the tail's name (optional). Keys that name no field are ignored, as
in 'kappa log append --format jsonl'. A value that does not fit raises LogError naming the field.

`type` is a type's name in the catalog or a number (0 to 65279). append() returns the record's
offset; a batch is appended all at once (readers see all of it or none). When the log is full,
an append waits up to `timeout` seconds (default 10) for readers to free room, then raises
LogError with status FULL.

The library is found through $KAPPA_LOG_LIB, then next to this file, then in the lib directory
of the prefix this file is installed under, then the system loader. No compiled extension: only
the standard library.
"""

import builtins
import ctypes
import ctypes.util
import math
import os
import struct

__all__ = ["open", "Log", "LogError", "Catalog", "load_library"]

OK, FULL, TOO_LARGE, STALLED, BAD_ARGUMENT, ERROR = range(6)
TIMESTAMP_NOW = -(2 ** 63)
FIRST_RESERVED_TYPE = 0xFF00


class LogError(Exception):
    """A kappa log call failed; .status holds the KL_* code (FULL, TOO_LARGE, ...)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _Info(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("capacity", ctypes.c_uint64),
                ("max_payload", ctypes.c_uint32), ("policy", ctypes.c_uint32),
                ("latest_offset", ctypes.c_uint64), ("records_appended", ctypes.c_uint64)]


class _Record(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_uint32), ("type", ctypes.c_uint16),
                ("reserved", ctypes.c_uint16), ("timestamp_ns", ctypes.c_int64)]


_lib = None


def _library_candidates(path):
    here = os.path.dirname(os.path.abspath(__file__))
    yield path
    yield os.environ.get("KAPPA_LOG_LIB")
    yield os.path.join(here, "libkappa_log.so")
    # Installed: <prefix>/share/kappa/python/kappa_log.py and <prefix>/lib*/libkappa_log.so.
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    for libdir in ("lib", "lib64", os.path.join("lib", "x86_64-linux-gnu")):
        yield os.path.join(prefix, libdir, "libkappa_log.so")
    yield ctypes.util.find_library("kappa_log")


def load_library(path=None):
    """Loads libkappa_log.so (once) and declares its functions."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    errors = []
    for candidate in _library_candidates(path):
        if not candidate or (os.path.sep in candidate and not os.path.exists(candidate)):
            continue
        try:
            lib = ctypes.CDLL(candidate)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise LogError(ERROR, "cannot load libkappa_log.so (set KAPPA_LOG_LIB to its path)" +
                       (": " + "; ".join(errors) if errors else ""))
    p, u16, u32, i64, sz = ctypes.c_void_p, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_int64, ctypes.c_size_t
    sig = {
        "kl_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(p)]),
        "kl_close": (None, [p]),
        "kl_get_info": (ctypes.c_int, [p, ctypes.POINTER(_Info)]),
        "kl_append": (ctypes.c_int, [p, u16, ctypes.c_char_p, u32, i64, i64, ctypes.POINTER(ctypes.c_uint64)]),
        "kl_append_batch": (ctypes.c_int, [p, ctypes.POINTER(_Record), sz, i64]),
        "kl_last_error": (ctypes.c_char_p, []),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _lib = lib
    return lib


def _fail(status):
    raise LogError(status, load_library().kl_last_error().decode("utf-8", "replace"))


class _Type:
    """One record type of a catalog, with the struct that packs its fields."""

    def __init__(self, number, name, fields, tail):
        self.number = number
        self.name = name
        self.fields = fields  # [(name, kind, size)]: kind "i64", "u64", "f64" or "string"
        self.tail = tail      # the tail's name, or None
        codes = {"i64": "q", "u64": "Q", "f64": "d"}
        self.struct = struct.Struct("<" + "".join(
            codes[kind] if kind in codes else "%ds" % ((size + 7) // 8 * 8) for _, kind, size in fields))

    def encode(self, record):
        values = []
        for field, kind, size in self.fields:
            if field not in record:
                raise LogError(BAD_ARGUMENT, "%s: field '%s' is missing" % (self.name, field))
            v = record[field]
            if kind in ("i64", "u64"):
                if not isinstance(v, int) or isinstance(v, bool):
                    raise LogError(BAD_ARGUMENT, "%s: field '%s' holds an integer (%s), not %r" % (self.name, field, kind, v))
                low, high = (-(2 ** 63), 2 ** 63 - 1) if kind == "i64" else (0, 2 ** 64 - 1)
                if not low <= v <= high:
                    raise LogError(BAD_ARGUMENT, "%s: field '%s' holds an integer (%s), not %d (out of range)" % (self.name, field, kind, v))
            elif kind == "f64":
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise LogError(BAD_ARGUMENT, "%s: field '%s' holds a number (f64), not %r" % (self.name, field, v))
                v = float(v)
            else:
                b = v.encode("utf-8") if isinstance(v, str) else v
                if not isinstance(b, (bytes, bytearray)):
                    raise LogError(BAD_ARGUMENT, "%s: field '%s' holds a string, not %r" % (self.name, field, v))
                if len(b) > size:
                    raise LogError(BAD_ARGUMENT, "%s: field '%s' holds at most %d bytes, not %d (%r)" % (self.name, field, size, len(b), v))
                if b"\0" in b:
                    raise LogError(BAD_ARGUMENT, "%s: field '%s' holds text without NUL bytes, not %r" % (self.name, field, v))
                v = bytes(b)
            values.append(v)
        payload = self.struct.pack(*values)
        if self.tail is not None and self.tail in record:
            t = record[self.tail]
            t = t.encode("utf-8") if isinstance(t, str) else t
            if not isinstance(t, (bytes, bytearray)):
                raise LogError(BAD_ARGUMENT, "%s: the tail '%s' holds text or bytes, not %r" % (self.name, self.tail, record[self.tail]))
            payload += bytes(t)
        return payload


class Catalog:
    """The record types of a log's catalog file (LOG.types), by name and by number."""

    def __init__(self, text="", source="catalog"):
        self.by_name = {}
        self.by_number = {}
        for line_number, line in enumerate(text.splitlines(), 1):
            words = line.split()
            if not words or line.startswith("#"):
                continue
            where = "%s:%d" % (source, line_number)
            try:
                number = int(words[0])
            except ValueError:
                raise LogError(ERROR, "%s: bad record type %r" % (where, words[0]))
            fields, tail = [], None
            for word in words[2:]:
                field, _, kind = word.partition(":")
                if kind == "tail":
                    tail = field
                elif kind in ("i64", "u64", "f64"):
                    fields.append((field, kind, 8))
                elif kind.startswith("string") and kind[6:].isdigit():
                    fields.append((field, "string", int(kind[6:])))
                else:
                    raise LogError(ERROR, "%s: field %r has an unknown type" % (where, word))
            t = _Type(number, words[1] if len(words) > 1 else "", fields, tail)
            self.by_name[t.name] = t
            self.by_number[number] = t

    @classmethod
    def load(cls, log_path):
        path = log_path + ".types"
        try:
            with builtins.open(path, encoding="utf-8") as f:  # this module's open() is a log's
                return cls(f.read(), path)
        except FileNotFoundError:
            return cls("", path)


class Log:
    """An open log; append() and append_batch() add records. Use one per thread."""

    def __init__(self, name_or_path):
        lib = load_library()
        handle = ctypes.c_void_p()
        rc = lib.kl_open(os.fsencode(name_or_path), ctypes.byref(handle))
        if rc != OK:
            _fail(rc)
        self._lib = lib
        self._handle = handle
        self._catalog = None

    def close(self):
        if self._handle:
            self._lib.kl_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _checked(self):
        if not self._handle:
            raise LogError(BAD_ARGUMENT, "the log is closed")
        return self._handle

    def info(self):
        """The log's path, capacity, max_payload, policy, latest_offset and records_appended."""
        i = _Info()
        rc = self._lib.kl_get_info(self._checked(), ctypes.byref(i))
        if rc != OK:
            _fail(rc)
        return {"path": i.path.decode(), "capacity": i.capacity, "max_payload": i.max_payload,
                "policy": "overwrite" if i.policy else "block", "latest_offset": i.latest_offset,
                "records_appended": i.records_appended}

    @property
    def path(self):
        return self.info()["path"]

    @property
    def catalog(self):
        """The log's catalog, read when first needed (reload() reads it again)."""
        if self._catalog is None:
            self._catalog = Catalog.load(self.path)
        return self._catalog

    def reload(self):
        self._catalog = None

    def _type(self, type):
        if isinstance(type, str):
            t = self.catalog.by_name.get(type)
            if t is None:
                names = ", ".join(sorted(self.catalog.by_name)) or "none: see 'kappa log schema'"
                raise LogError(BAD_ARGUMENT, "%s.types has no type %r (it has: %s)" % (self.path, type, names))
            return t.number, t
        if not isinstance(type, int) or isinstance(type, bool) or not 0 <= type < FIRST_RESERVED_TYPE:
            raise LogError(BAD_ARGUMENT, "type: a name in the catalog or a number 0 to %d, not %r" % (FIRST_RESERVED_TYPE - 1, type))
        return type, self.catalog.by_number.get(type)

    def _payload(self, record, number, entry):
        if isinstance(record, (bytes, bytearray, memoryview)):
            return bytes(record)
        if isinstance(record, dict):
            if entry is None:
                raise LogError(BAD_ARGUMENT, "type %d is not in %s.types: a dict needs a type the catalog names" % (number, self.path))
            return entry.encode(record)
        raise LogError(BAD_ARGUMENT, "a record is bytes or a dict, not %s" % record.__class__.__name__)

    @staticmethod
    def _timeout_ns(timeout):
        if timeout is None or (isinstance(timeout, float) and math.isinf(timeout)):
            return 2 ** 63 - 1
        return max(0, int(timeout * 1e9))

    def append(self, record, type=0, timestamp_ns=None, timeout=10.0):
        """Appends one record (bytes, or a dict encoded through the catalog); its offset."""
        number, entry = self._type(type)
        payload = self._payload(record, number, entry)
        offset = ctypes.c_uint64()
        rc = self._lib.kl_append(self._checked(), number, payload, len(payload),
                                 TIMESTAMP_NOW if timestamp_ns is None else int(timestamp_ns),
                                 self._timeout_ns(timeout), ctypes.byref(offset))
        if rc != OK:
            _fail(rc)
        return offset.value

    def append_batch(self, records, type=0, timeout=10.0):
        """Appends the records (each bytes or a dict) as one atomic batch; how many."""
        number, entry = self._type(type)
        payloads = [self._payload(r, number, entry) for r in records]
        if not payloads:
            return 0
        array = (_Record * len(payloads))()
        buffers = [ctypes.create_string_buffer(p, len(p)) for p in payloads]  # kept alive
        for i, (p, b) in enumerate(zip(payloads, buffers)):
            array[i].data = ctypes.cast(b, ctypes.c_void_p)
            array[i].size = len(p)
            array[i].type = number
            array[i].timestamp_ns = TIMESTAMP_NOW
        rc = self._lib.kl_append_batch(self._checked(), array, len(payloads), self._timeout_ns(timeout))
        if rc != OK:
            _fail(rc)
        return len(payloads)


def open(name_or_path):
    """Opens the log (a path, or a bare name in $KAPPA_DATA_DIR) for appending."""
    return Log(name_or_path)
