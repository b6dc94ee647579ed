/* kappa_log.h: the C ABI of kappa's log producer (libkappa_log.so).
 *
 * Appends records to a kappa log (a memory-mapped ring: memlog/log.h) from any process and any
 * language with a C FFI (memlog/python/kappa_log.py uses it through ctypes). Create the log
 * first ('kappa log create'); declare its record types with 'kappa log schema' so that tools
 * and pipelines decode the records by field.
 *
 *   kl_log* log;
 *   if (kl_open("clicks", &log) != KL_OK) { fprintf(stderr, "%s\n", kl_last_error()); ... }
 *   uint64_t offset;
 *   int rc = kl_append(log, 1, record, sizeof record, 1000000000, &offset);  // wait up to 1 s
 *   kl_close(log);
 *
 * Every function returns a status code (or, for the few that cannot fail, nothing); none aborts
 * or throws, whatever it is given. On a status other than KL_OK, kl_last_error() describes the
 * failure (thread-local; valid until the thread's next call).
 *
 * A record is a payload of 0 to max_payload bytes with a type (0 to 65279; 65280 and up are
 * kappa's own) and a timestamp: KL_TIMESTAMP_NOW (the wall clock when it is appended) or Unix
 * nanoseconds of the caller's choosing. A batch is appended all at once: readers see every
 * record of it or none.
 *
 * When the log is full (a block-policy log whose slowest cursor has not read far enough),
 * appends wait up to their timeout_ns (0: not at all) and then return KL_FULL; an append that
 * can never fit returns KL_TOO_LARGE.
 *
 * Threads: a kl_log is used by one thread at a time; open one per producing thread (any number
 * of them, in any number of processes, append to one log at once).
 */
#ifndef KAPPA_LOG_H_
#define KAPPA_LOG_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define KL_OK 0
#define KL_FULL 1         /* no room within the timeout: readers have not freed enough yet */
#define KL_TOO_LARGE 2    /* a payload over max_payload, or a batch over half the ring */
#define KL_STALLED 3      /* overwrite policy: an older append stayed unfinished */
#define KL_BAD_ARGUMENT 4 /* a null pointer, a reserved type, a claim not open */
#define KL_ERROR 5        /* could not open; the log failed a sync (nothing more is appended) */

/* The append time: the wall clock when the record is appended. */
#define KL_TIMESTAMP_NOW INT64_MIN

typedef struct kl_log kl_log;

typedef struct kl_info {
  const char* path;          /* the log's file (valid while the kl_log is open) */
  uint64_t capacity;         /* ring bytes */
  uint32_t max_payload;      /* the largest payload */
  uint32_t policy;           /* 0: block, 1: overwrite */
  uint64_t latest_offset;    /* where the next record goes */
  uint64_t records_appended; /* by this kl_log */
} kl_info;

typedef struct kl_record {
  const void* data;
  uint32_t size;
  uint16_t type;
  uint16_t reserved;    /* 0 */
  int64_t timestamp_ns; /* KL_TIMESTAMP_NOW or Unix nanoseconds */
} kl_record;

/* A record reserved in the ring, filled in place, then committed or aborted. */
typedef struct kl_reservation {
  void* data; /* `size` bytes to fill */
  uint32_t size;
  uint32_t reserved;
  uint64_t offset; /* the record's offset in the log */
  uint64_t internal[3];
} kl_reservation;

/* Opens the log at `name_or_path` (a path, or a bare name in $KAPPA_DATA_DIR, default
 * /dev/shm/kappa) for appending. */
int kl_open(const char* name_or_path, kl_log** out);
/* Closes it. A claim not committed becomes padding. Null is allowed. */
void kl_close(kl_log* log);
int kl_get_info(const kl_log* log, kl_info* out);

/* Appends one record; `offset`, if not null, receives its offset. */
int kl_append(kl_log* log, uint16_t type, const void* data, uint32_t size, int64_t timestamp_ns,
              int64_t timeout_ns, uint64_t* offset);
/* Appends `count` records as one atomic batch. */
int kl_append_batch(kl_log* log, const kl_record* records, size_t count, int64_t timeout_ns);

/* Reserves a record of `size` bytes to fill in place (never waits: KL_FULL when there is no
 * room now). Then exactly one of kl_commit and kl_abort. */
int kl_claim(kl_log* log, uint32_t size, kl_reservation* claim);
int kl_commit(kl_log* log, kl_reservation* claim, uint16_t type, int64_t timestamp_ns);
/* Gives the reservation up: its bytes become padding that readers skip. */
int kl_abort(kl_log* log, kl_reservation* claim);

const char* kl_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* KAPPA_LOG_H_ */
