/* read_clicks: the view `clicks` wrote, read from C through libkappa_view, and one more click
 * appended from C through libkappa_log. Exits 0 when user 7 has its 1,000 clicks. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "memlog/kappa_log.h"
#include "serving/kappa_view.h"

int main(void) {
  kv_view* view;
  if (kv_open("example", "clicks_per_user", &view) != KV_OK) {
    fprintf(stderr, "read_clicks: %s\n", kv_last_error());
    return 1;
  }
  kv_info info;
  char value[64];
  uint64_t offset;
  if (kv_get_info(view, &info) != KV_OK || info.value_size > sizeof value ||
      kv_get_u64(view, 7, value, sizeof value, &offset) != KV_OK) {
    fprintf(stderr, "read_clicks: %s\n", kv_last_error());
    return 1;
  }
  int64_t count;
  memcpy(&count, value, sizeof count); /* the first field: an i64 at offset 0 */
  printf("read_clicks: user 7 has %" PRId64 " clicks (as of log offset %" PRIu64 ")\n", count,
         offset);
  kv_close(view);

  kl_log* log;
  if (kl_open("example-clicks", &log) != KL_OK) {
    fprintf(stderr, "read_clicks: %s\n", kl_last_error());
    return 1;
  }
  struct {
    int64_t user, duration_ms;
    char page[16];
  } click = {7, 25, "from C"};
  if (kl_append(log, 7, &click, sizeof click, KL_TIMESTAMP_NOW, 1000000000, NULL) != KL_OK) {
    fprintf(stderr, "read_clicks: %s\n", kl_last_error());
    return 1;
  }
  kl_close(log);
  return count == 1000 ? 0 : 1;
}
