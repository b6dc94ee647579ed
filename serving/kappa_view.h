/* kappa_view.h: the C ABI of kappa's view reader (libkappa_view.so).
 *
 * Reads views that a kappa writer keeps in shared memory, in place, from any process and any
 * language with a C FFI (serving/python/kappa_view.py uses it through ctypes).
 *
 *   kv_view* v;
 *   if (kv_open("default", "q5", &v) != KV_OK) { fprintf(stderr, "%s\n", kv_last_error()); ... }
 *   kv_info info;
 *   kv_get_info(v, &info);
 *   char value[256];              // at least info.value_size bytes
 *   uint64_t offset;
 *   int rc = kv_get_u64(v, 42, value, sizeof value, &offset);   // KV_OK, KV_NOT_FOUND, ...
 *   kv_close(v);
 *
 * Every function returns a status code (or, for the few that cannot fail, a value); none aborts
 * or throws, whatever it is given. On a status other than KV_OK and KV_NOT_FOUND,
 * kv_last_error() describes the failure (thread-local; valid until the thread's next call).
 *
 * One limit: a view is read in place, through a mapping of its file. If the file is truncated
 * while a view is open (only its owner can do that: kappa's writers never shrink a file, and a
 * view that grows moves to a new one), the next read of a page past the new end raises SIGBUS
 * in the calling process, which ends it unless the host handles that signal. The library
 * installs no signal handler of its own: that would take over a signal its host may rely on.
 * (kappa's own long-running readers, `kappa view watch` and `kappa log tail`, catch it and stop
 * with an error.)
 *
 * Threads: a kv_view is used by one thread at a time; open one per thread. Distinct views are
 * independent.
 *
 * Value records: value_size bytes, fields at the offsets kv_get_field gives: i64/u64/f64 as
 * 8-byte little-endian words, strings NUL-padded to their size (not NUL-terminated when full).
 */
#ifndef KAPPA_VIEW_H_
#define KAPPA_VIEW_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define KV_OK 0
#define KV_NOT_FOUND 1    /* no such key, window or row */
#define KV_STALE 2        /* the entry stayed mid-update: its writer died or stalled */
#define KV_GONE 3         /* the view was retired or dropped since it was opened */
#define KV_WRONG_KIND 4   /* the call does not suit the view's kind or key type */
#define KV_BAD_ARGUMENT 5 /* a null pointer, a key too long, a value buffer too small */
#define KV_BUSY 6         /* the namespace registry stayed mid-update */
#define KV_ERROR 7        /* could not open: no such namespace or view, a bad file, ... */

/* View kinds, key types and field types. */
#define KV_KIND_KEYED 1
#define KV_KIND_WINDOWED 2
#define KV_KIND_TOPK 3
#define KV_KIND_LIST 4
#define KV_KEY_NONE 0
#define KV_KEY_U64 1
#define KV_KEY_BYTES 2
#define KV_FIELD_I64 1
#define KV_FIELD_U64 2
#define KV_FIELD_F64 3
#define KV_FIELD_STRING 4

typedef struct kv_view kv_view;

typedef struct kv_info {
  uint32_t kind;       /* KV_KIND_* */
  uint32_t key_type;   /* KV_KEY_* */
  uint32_t key_size;   /* u64: 8; bytes: the longest key */
  uint32_t value_size; /* bytes of a value record */
  uint32_t field_count;
  uint32_t version; /* the view version read now (it follows flips) */
  uint32_t generation;
  uint32_t alias_epoch;    /* 0 when opened as name@version */
  uint64_t capacity;       /* slots, K or rows */
  uint64_t applied_offset; /* the log offset the writer (the slowest shard) has applied up to */
  int64_t watermark_ns;
  uint64_t writer_pid;  /* 0: no writer attached */
  int32_t writer_alive; /* 1 if the writer's process runs (every shard's, if sharded) */
  uint32_t shard_count; /* 1, or the shards of a sharded keyed or windowed view */
  int64_t heartbeat_unix_ns;
  uint64_t entries;         /* live entries or rows */
  uint64_t updates;         /* writes so far */
  uint64_t list_count;      /* list: rows appended so far */
  int64_t window_size_ns;   /* windowed */
  int64_t window_slide_ns;  /* windowed */
  uint32_t windows_per_key; /* windowed */
  uint32_t order_field;     /* top-K: index of the field rows are sorted by */
  int32_t order_descending; /* top-K */
  int32_t reserved1;
} kv_info;

typedef struct kv_field {
  const char* name; /* valid while the view is open */
  uint32_t type;    /* KV_FIELD_* */
  uint32_t size;    /* bytes (8 for numbers) */
  uint32_t offset;  /* within the value record */
  uint32_t reserved;
} kv_field;

/* One row handed to a callback; the pointers are valid during the call only. */
typedef struct kv_row {
  uint64_t key_u64;      /* u64 keys */
  const char* key_bytes; /* bytes keys (not NUL-terminated) */
  size_t key_len;
  int64_t window_start; /* windowed */
  uint64_t index;       /* list: the row's index; top-K: its rank (0 first) */
  uint64_t offset;      /* log offset of the entry's last update */
  const void* value;
  size_t value_size;
} kv_row;

/* Return 0 to continue, anything else to stop (the call then returns KV_OK). */
typedef int (*kv_row_fn)(const kv_row* row, void* context);

/* Opens `ref` ("name" follows the name's alias; "name@version" pins a version) in namespace
 * `ns` (a name under $KAPPA_VIEW_DIR, default /dev/shm/kappa/views, or a directory path; NULL
 * or "" is "default"). */
int kv_open(const char* ns, const char* ref, kv_view** out);
void kv_close(kv_view* view);

const char* kv_last_error(void);
const char* kv_status_name(int status);

int kv_get_info(kv_view* view, kv_info* out);
int kv_get_field(kv_view* view, uint32_t index, kv_field* out);
/* The key's name ("" for lists; NULL if view is NULL); valid until the next call on the view. */
const char* kv_key_name(kv_view* view);

/* Keyed tables. `value` receives value_size bytes. */
int kv_get_u64(kv_view* view, uint64_t key, void* value, size_t value_capacity, uint64_t* offset);
int kv_get_bytes(kv_view* view, const void* key, size_t key_len, void* value, size_t value_capacity,
                 uint64_t* offset);
/* Windowed tables: one window, or every retained window of a key (oldest first). */
int kv_get_window_u64(kv_view* view, uint64_t key, int64_t window_start, void* value,
                      size_t value_capacity, uint64_t* offset);
int kv_get_window_bytes(kv_view* view, const void* key, size_t key_len, int64_t window_start,
                        void* value, size_t value_capacity, uint64_t* offset);
int kv_windows_u64(kv_view* view, uint64_t key, kv_row_fn fn, void* context);
int kv_windows_bytes(kv_view* view, const void* key, size_t key_len, kv_row_fn fn, void* context);
/* Every row: keyed and windowed in slot order, top-K best first, lists oldest first. KV_STALE
 * if some entries were skipped because they stayed mid-update (all others were visited). */
int kv_scan(kv_view* view, kv_row_fn fn, void* context);
/* kv_scan a chunk at a time: at most `max_rows` rows from position `from` (0: the start);
 * *next receives where the next chunk starts, UINT64_MAX once every row has been visited.
 * Positions are slots (keyed, windowed), ranks (top-K) or indexes (list). */
int kv_scan_from(kv_view* view, uint64_t from, uint64_t max_rows, kv_row_fn fn, void* context,
                 uint64_t* next);
/* A top-K view's list, read as one snapshot. */
int kv_topk(kv_view* view, kv_row_fn fn, void* context);
/* A list's rows from index `from`, at most `max_rows`; *next receives where to continue. */
int kv_list_rows(kv_view* view, uint64_t from, uint64_t max_rows, kv_row_fn fn, void* context,
                 uint64_t* next);

#ifdef __cplusplus
}
#endif

#endif /* KAPPA_VIEW_H_ */
