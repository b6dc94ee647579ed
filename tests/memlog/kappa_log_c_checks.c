/* The producer's C ABI used from C: the header compiles as C and the calls link. */
#include <string.h>

#include "memlog/kappa_log.h"

int kl_c_checks(const char* path) {
  kl_log* log = NULL;
  if (kl_open(path, &log) != KL_OK) return 1;
  if (kl_append(log, 1, "from C", 6, KL_TIMESTAMP_NOW, 0, NULL) != KL_OK) return 2;
  kl_record batch[1];
  batch[0].data = "from C, batched";
  batch[0].size = 15;
  batch[0].type = 2;
  batch[0].reserved = 0;
  batch[0].timestamp_ns = KL_TIMESTAMP_NOW;
  if (kl_append_batch(log, batch, 1, 0) != KL_OK) return 3;
  kl_reservation claim;
  if (kl_claim(log, 15, &claim) != KL_OK) return 4;
  memcpy(claim.data, "from C, claimed", 15);
  if (kl_commit(log, &claim, 3, KL_TIMESTAMP_NOW) != KL_OK) return 5;
  kl_close(log);
  return 0;
}
