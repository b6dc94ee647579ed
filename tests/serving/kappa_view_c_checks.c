/* The C ABI used from C: proves serving/kappa_view.h is a C header and checks the fixture
 * views (tests/serving/fixture_views.h) through it. Called by kappa_view_test.cc. */
#include <stdio.h>
#include <string.h>

#include "serving/kappa_view.h"

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      snprintf(error, error_size, "%s:%d: %s (last error: %s)", __FILE__, __LINE__, #cond, \
               kv_last_error());                                                           \
      return 1;                                                                            \
    }                                                                                      \
  } while (0)

struct sum_context {
  long long rows;
  long long total;
  int stop_after;
};

static int sum_counts(const kv_row* row, void* context) {
  struct sum_context* c = (struct sum_context*)context;
  long long count;
  memcpy(&count, row->value, sizeof count);
  c->rows++;
  c->total += count;
  return c->stop_after > 0 && c->rows >= c->stop_after;
}

int kappa_view_c_checks(const char* ns, char* error, size_t error_size) {
  kv_view* v = NULL;
  CHECK(kv_open(ns, "counts", &v) == KV_OK);
  kv_info info;
  CHECK(kv_get_info(v, &info) == KV_OK);
  CHECK(info.kind == KV_KIND_KEYED && info.key_type == KV_KEY_U64 && info.field_count == 3);
  CHECK(info.applied_offset == 5000 && info.watermark_ns == 777 && info.entries == 100);
  CHECK(info.shard_count == 1 && info.writer_alive == 0 &&
        info.writer_pid == 0); /* writers closed */
  CHECK(strcmp(kv_key_name(v), "id") == 0);
  kv_field f;
  CHECK(kv_get_field(v, 2, &f) == KV_OK);
  CHECK(strcmp(f.name, "label") == 0 && f.type == KV_FIELD_STRING && f.size == 12 &&
        f.offset == 16);
  CHECK(kv_get_field(v, 3, &f) == KV_BAD_ARGUMENT);

  unsigned char value[64];
  uint64_t offset = 0;
  long long count;
  double ratio;
  CHECK(kv_get_u64(v, 9, value, sizeof value, &offset) == KV_OK);
  memcpy(&count, value, 8);
  memcpy(&ratio, value + 8, 8);
  CHECK(count == 27 && ratio == 2.25 && offset == 1009 &&
        strncmp((char*)value + 16, "k9", 12) == 0);
  CHECK(kv_get_u64(v, 100, value, sizeof value, &offset) == KV_NOT_FOUND);
  CHECK(kv_get_u64(v, 9, value, 8, &offset) == KV_BAD_ARGUMENT); /* buffer too small */
  CHECK(kv_get_bytes(v, "x", 1, value, sizeof value, &offset) == KV_WRONG_KIND);
  CHECK(kv_topk(v, sum_counts, NULL) == KV_WRONG_KIND);

  struct sum_context sum = {0, 0, 0};
  CHECK(kv_scan(v, sum_counts, &sum) == KV_OK);
  CHECK(sum.rows == 100 && sum.total == 3 * 4950);
  /* A chunk at a time: every row once, then UINT64_MAX. */
  struct sum_context chunks = {0, 0, 0};
  uint64_t position = 0;
  int calls = 0;
  while (position != UINT64_MAX && calls++ < 1000) {
    uint64_t next = 0;
    CHECK(kv_scan_from(v, position, 9, sum_counts, &chunks, &next) == KV_OK);
    CHECK(next == UINT64_MAX || next > position);
    position = next;
  }
  CHECK(chunks.rows == 100 && chunks.total == 3 * 4950);
  CHECK(kv_scan_from(v, 0, 9, sum_counts, &chunks, NULL) == KV_BAD_ARGUMENT);
  struct sum_context stop = {0, 0, 10};
  CHECK(kv_scan(v, sum_counts, &stop) == KV_OK && stop.rows == 10); /* the callback stopped it */
  kv_close(v);

  CHECK(kv_open(ns, "users", &v) == KV_OK);
  CHECK(kv_get_bytes(v, "alice", 5, value, sizeof value, &offset) == KV_OK && offset == 1);
  CHECK(kv_get_bytes(v, "alicex", 6, value, sizeof value, &offset) == KV_NOT_FOUND);
  kv_close(v);

  CHECK(kv_open(ns, "win", &v) == KV_OK);
  struct sum_context windows = {0, 0, 0};
  CHECK(kv_windows_u64(v, 7, sum_counts, &windows) == KV_OK && windows.rows == 3 &&
        windows.total == 6);
  CHECK(kv_get_window_u64(v, 7, 20, value, sizeof value, &offset) == KV_OK && offset == 2);
  kv_close(v);

  CHECK(kv_open(ns, "top", &v) == KV_OK);
  struct sum_context top = {0, 0, 0};
  CHECK(kv_topk(v, sum_counts, &top) == KV_OK && top.rows == 3 && top.total == 120);
  kv_close(v);

  CHECK(kv_open(ns, "rows", &v) == KV_OK);
  struct sum_context rows = {0, 0, 0};
  uint64_t next = 0;
  CHECK(kv_list_rows(v, 2, 100, sum_counts, &rows, &next) == KV_OK && rows.rows == 3 && next == 5);
  kv_close(v);

  /* Failures are codes with a message, never a crash. */
  CHECK(kv_open(ns, "missing", &v) == KV_ERROR && v == NULL &&
        strstr(kv_last_error(), "missing") != NULL);
  CHECK(kv_open(ns, "bad name!", &v) == KV_ERROR);
  CHECK(kv_open(ns, NULL, &v) == KV_BAD_ARGUMENT);
  CHECK(kv_open(ns, "counts", NULL) == KV_BAD_ARGUMENT);
  CHECK(kv_get_info(NULL, &info) == KV_BAD_ARGUMENT);
  CHECK(kv_get_u64(NULL, 1, value, sizeof value, &offset) == KV_BAD_ARGUMENT);
  CHECK(kv_scan(NULL, sum_counts, NULL) == KV_BAD_ARGUMENT);
  CHECK(kv_key_name(NULL) == NULL);
  kv_close(NULL);
  CHECK(strcmp(kv_status_name(KV_STALE), "stale") == 0);
  CHECK(strcmp(kv_status_name(99), "unknown status") == 0);
  return 0;
}
