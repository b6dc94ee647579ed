// The C ABI over the header-only ViewReader. Nothing escapes it: every entry point catches
// everything and turns it into a status code and a thread-local message.
#include "serving/kappa_view.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "serving/view_reader.h"

#define KV_EXPORT extern "C" __attribute__((visibility("default")))

struct kv_view {
  std::unique_ptr<kappa::serving::ViewReader> reader;
};

namespace {

using kappa::serving::ReadStatus;
using kappa::serving::RowView;
using kappa::serving::ViewReader;

thread_local std::string t_error;

int Fail(int status, std::string message) {
  t_error = std::move(message);
  return status;
}

int FromRead(ReadStatus s, const char* what) {
  switch (s) {
    case ReadStatus::kOk:
      return KV_OK;
    case ReadStatus::kNotFound:
      return KV_NOT_FOUND;
    case ReadStatus::kStale:
      return Fail(KV_STALE, std::string(what) + ": " + ReadStatusName(s));
    case ReadStatus::kGone:
      return Fail(KV_GONE, std::string(what) + ": " + ReadStatusName(s));
    case ReadStatus::kWrongKind:
      return Fail(KV_WRONG_KIND, std::string(what) + ": " + ReadStatusName(s));
    case ReadStatus::kBadArgument:
      return Fail(KV_BAD_ARGUMENT, std::string(what) + ": " + ReadStatusName(s));
    case ReadStatus::kBusy:
      return Fail(KV_BUSY, std::string(what) + ": " + ReadStatusName(s));
  }
  return Fail(KV_ERROR, std::string(what) + ": unknown status");
}

// Runs `body`, turning anything thrown into KV_ERROR.
template <class Body>
int Guard(const char* what, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(KV_ERROR, std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(KV_ERROR, std::string(what) + ": " + e.what());
  } catch (...) {
    return Fail(KV_ERROR, std::string(what) + ": unknown failure");
  }
}

// Adapts a C callback to the reader's row function. A callback that asks to stop ends the walk.
ViewReader::RowFn Adapt(kv_row_fn fn, void* context) {
  return [fn, context](const RowView& r) {
    kv_row row;
    row.key_u64 = r.key_u64;
    row.key_bytes = r.key_bytes.data();
    row.key_len = r.key_bytes.size();
    row.window_start = r.window_start;
    row.index = r.index;
    row.offset = r.offset;
    row.value = r.value.data();
    row.value_size = r.value.size();
    return fn(&row, context) == 0;
  };
}

std::string_view Key(const void* key, std::size_t len) {
  return std::string_view(static_cast<const char*>(key), len);
}

}  // namespace

KV_EXPORT int kv_open(const char* ns, const char* ref, kv_view** out) {
  return Guard("kv_open", [&] {
    if (out == nullptr || ref == nullptr) return Fail(KV_BAD_ARGUMENT, "kv_open: null argument");
    *out = nullptr;
    auto reader = ViewReader::Open(ns ? ns : "", ref);
    if (!reader.ok()) return Fail(KV_ERROR, reader.status().message());
    auto* v = new kv_view();
    v->reader = std::move(reader).value();
    *out = v;
    return KV_OK;
  });
}

KV_EXPORT void kv_close(kv_view* view) { delete view; }

KV_EXPORT const char* kv_last_error(void) { return t_error.c_str(); }

KV_EXPORT const char* kv_status_name(int status) {
  switch (status) {
    case KV_OK:
      return "ok";
    case KV_NOT_FOUND:
      return "not found";
    case KV_STALE:
      return "stale";
    case KV_GONE:
      return "gone";
    case KV_WRONG_KIND:
      return "wrong kind";
    case KV_BAD_ARGUMENT:
      return "bad argument";
    case KV_BUSY:
      return "busy";
    case KV_ERROR:
      return "error";
  }
  return "unknown status";
}

KV_EXPORT int kv_get_info(kv_view* view, kv_info* out) {
  return Guard("kv_get_info", [&] {
    if (view == nullptr || out == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_get_info: null argument");
    const ReadStatus s = view->reader->Follow();
    if (s != ReadStatus::kOk) return FromRead(s, "kv_get_info");
    const kappa::serving::ViewInfo i = view->reader->Info();
    std::memset(out, 0, sizeof *out);
    out->kind = static_cast<std::uint32_t>(i.kind);
    out->key_type = static_cast<std::uint32_t>(i.key_type);
    out->key_size = i.key_size;
    out->value_size = i.schema.value_size();
    out->field_count = static_cast<std::uint32_t>(i.schema.size());
    out->version = i.version;
    out->generation = i.generation;
    out->alias_epoch = i.alias_epoch;
    out->capacity = i.capacity;
    out->applied_offset = i.applied_offset;
    out->watermark_ns = i.watermark_ns;
    out->writer_pid = i.writer_pid;
    out->writer_alive = i.writer_alive ? 1 : 0;
    out->shard_count = i.shard_count;
    out->heartbeat_unix_ns = i.heartbeat_unix_ns;
    out->entries = i.counters.entries;
    out->updates = i.counters.updates;
    out->list_count = i.list_count;
    out->window_size_ns = i.window_size_ns;
    out->window_slide_ns = i.window_slide_ns;
    out->windows_per_key = i.windows_per_key;
    out->order_field = static_cast<std::uint32_t>(std::max(0, i.schema.Find(i.order_field)));
    out->order_descending = i.order_descending ? 1 : 0;
    return KV_OK;
  });
}

KV_EXPORT int kv_get_field(kv_view* view, uint32_t index, kv_field* out) {
  return Guard("kv_get_field", [&] {
    if (view == nullptr || out == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_get_field: null argument");
    const kappa::serving::Schema& schema = view->reader->schema();
    if (index >= schema.size())
      return Fail(KV_BAD_ARGUMENT, "kv_get_field: field " + std::to_string(index) + " of " +
                                       std::to_string(schema.size()));
    const kappa::serving::Field& f = schema.field(index);
    out->name = f.name.c_str();
    out->type = static_cast<std::uint32_t>(f.type);
    out->size = f.size;
    out->offset = f.offset;
    out->reserved = 0;
    return KV_OK;
  });
}

KV_EXPORT const char* kv_key_name(kv_view* view) {
  if (view == nullptr) return nullptr;
  return view->reader->key_name().c_str();
}

KV_EXPORT int kv_get_u64(kv_view* view, uint64_t key, void* value, size_t capacity,
                         uint64_t* offset) {
  return Guard("kv_get_u64", [&] {
    if (view == nullptr || value == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_get_u64: null argument");
    std::uint64_t unused;
    return FromRead(view->reader->Get(key, std::span(static_cast<std::byte*>(value), capacity),
                                      offset ? offset : &unused),
                    "kv_get_u64");
  });
}

KV_EXPORT int kv_get_bytes(kv_view* view, const void* key, size_t key_len, void* value,
                           size_t capacity, uint64_t* offset) {
  return Guard("kv_get_bytes", [&] {
    if (view == nullptr || value == nullptr || (key == nullptr && key_len > 0))
      return Fail(KV_BAD_ARGUMENT, "kv_get_bytes: null argument");
    std::uint64_t unused;
    return FromRead(
        view->reader->Get(Key(key, key_len), std::span(static_cast<std::byte*>(value), capacity),
                          offset ? offset : &unused),
        "kv_get_bytes");
  });
}

KV_EXPORT int kv_get_window_u64(kv_view* view, uint64_t key, int64_t window_start, void* value,
                                size_t capacity, uint64_t* offset) {
  return Guard("kv_get_window_u64", [&] {
    if (view == nullptr || value == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_get_window_u64: null argument");
    std::uint64_t unused;
    return FromRead(view->reader->GetWindow(key, window_start,
                                            std::span(static_cast<std::byte*>(value), capacity),
                                            offset ? offset : &unused),
                    "kv_get_window_u64");
  });
}

KV_EXPORT int kv_get_window_bytes(kv_view* view, const void* key, size_t key_len,
                                  int64_t window_start, void* value, size_t capacity,
                                  uint64_t* offset) {
  return Guard("kv_get_window_bytes", [&] {
    if (view == nullptr || value == nullptr || (key == nullptr && key_len > 0))
      return Fail(KV_BAD_ARGUMENT, "kv_get_window_bytes: null argument");
    std::uint64_t unused;
    return FromRead(view->reader->GetWindow(Key(key, key_len), window_start,
                                            std::span(static_cast<std::byte*>(value), capacity),
                                            offset ? offset : &unused),
                    "kv_get_window_bytes");
  });
}

KV_EXPORT int kv_windows_u64(kv_view* view, uint64_t key, kv_row_fn fn, void* context) {
  return Guard("kv_windows_u64", [&] {
    if (view == nullptr || fn == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_windows_u64: null argument");
    return FromRead(view->reader->GetWindows(key, Adapt(fn, context)), "kv_windows_u64");
  });
}

KV_EXPORT int kv_windows_bytes(kv_view* view, const void* key, size_t key_len, kv_row_fn fn,
                               void* context) {
  return Guard("kv_windows_bytes", [&] {
    if (view == nullptr || fn == nullptr || (key == nullptr && key_len > 0))
      return Fail(KV_BAD_ARGUMENT, "kv_windows_bytes: null argument");
    return FromRead(view->reader->GetWindows(Key(key, key_len), Adapt(fn, context)),
                    "kv_windows_bytes");
  });
}

KV_EXPORT int kv_scan(kv_view* view, kv_row_fn fn, void* context) {
  return Guard("kv_scan", [&] {
    if (view == nullptr || fn == nullptr) return Fail(KV_BAD_ARGUMENT, "kv_scan: null argument");
    return FromRead(view->reader->Scan(Adapt(fn, context)), "kv_scan");
  });
}

KV_EXPORT int kv_scan_from(kv_view* view, uint64_t from, uint64_t max_rows, kv_row_fn fn,
                           void* context, uint64_t* next) {
  return Guard("kv_scan_from", [&] {
    if (view == nullptr || fn == nullptr || next == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_scan_from: null argument");
    return FromRead(view->reader->ScanFrom(from, max_rows, Adapt(fn, context), next),
                    "kv_scan_from");
  });
}

KV_EXPORT int kv_topk(kv_view* view, kv_row_fn fn, void* context) {
  return Guard("kv_topk", [&] {
    if (view == nullptr || fn == nullptr) return Fail(KV_BAD_ARGUMENT, "kv_topk: null argument");
    return FromRead(view->reader->TopK(Adapt(fn, context)), "kv_topk");
  });
}

KV_EXPORT int kv_list_rows(kv_view* view, uint64_t from, uint64_t max_rows, kv_row_fn fn,
                           void* context, uint64_t* next) {
  return Guard("kv_list_rows", [&] {
    if (view == nullptr || fn == nullptr)
      return Fail(KV_BAD_ARGUMENT, "kv_list_rows: null argument");
    std::uint64_t unused;
    return FromRead(
        view->reader->ListRows(from, max_rows, Adapt(fn, context), next ? next : &unused),
        "kv_list_rows");
  });
}
