// The C ABI over memlog::Log and memlog::Producer. Nothing escapes it: every entry point catches
// everything and turns it into a status code and a thread-local message.
#include "memlog/kappa_log.h"

#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "memlog/log.h"
#include "memlog/producer.h"

#define KL_EXPORT extern "C" __attribute__((visibility("default")))

struct kl_log {
  std::unique_ptr<kappa::memlog::Log> log;
  std::unique_ptr<kappa::memlog::Producer> producer;
  std::vector<kappa::memlog::RecordView> views;  // kl_append_batch's, reused
  bool claim_open = false;                       // a producer holds one claim at a time
};

namespace {

using kappa::memlog::AppendResult;
using kappa::memlog::ClaimedRecord;
using kappa::memlog::Log;
using kappa::memlog::RecordView;

static_assert(KL_TIMESTAMP_NOW == kappa::memlog::kTimestampNow);
static_assert(sizeof(kl_reservation) == 48, "kl_reservation is part of the ABI");

thread_local std::string t_error;

int Fail(int status, std::string message) {
  t_error = std::move(message);
  return status;
}

template <class Body>
int Guard(const char* what, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(KL_ERROR, std::string(what) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(KL_ERROR, std::string(what) + ": " + e.what());
  } catch (...) {
    return Fail(KL_ERROR, std::string(what) + ": unknown error");
  }
}

int FromAppend(AppendResult r, const kl_log& log, const char* what) {
  const std::string where = log.log->path() + ": " + what + ": ";
  switch (r) {
    case AppendResult::kOk:
      return KL_OK;
    case AppendResult::kFull:
    case AppendResult::kTimedOut:
      return Fail(KL_FULL, where + "the log is full (its slowest cursor has not read far enough)");
    case AppendResult::kTooLarge:
      return Fail(KL_TOO_LARGE, where + "larger than the log's max payload of " +
                                    std::to_string(log.log->Info().max_payload) +
                                    " bytes (a batch: than half the ring)");
    case AppendResult::kStalled:
      return Fail(KL_STALLED, where + "stalled behind an older append that could not be unblocked");
    case AppendResult::kIoError:
      return Fail(KL_ERROR, log.log->failure());
    case AppendResult::kReadOnly:
      return Fail(KL_ERROR, where + "the log is open read-only");
    case AppendResult::kAbandoned:
      return Fail(KL_ERROR, where +
                                "abandoned repeatedly: this process stalled past the log's "
                                "unblock timeout");
  }
  return Fail(KL_ERROR, where + "unknown append result");
}

// Runs `append()` until it succeeds or `timeout_ns` passes while the log is full, retrying
// when memlog abandoned the reservation because this thread stalled (nothing of it was
// published, so a retry cannot duplicate a record).
template <class AppendFn>
AppendResult WithRetries(std::int64_t timeout_ns, AppendFn&& append) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + std::chrono::nanoseconds(timeout_ns);
  for (int abandoned = 0, spins = 0;; ++spins) {
    const AppendResult r = append();
    if (r == AppendResult::kAbandoned && ++abandoned <= 3) continue;
    if ((r == AppendResult::kFull || r == AppendResult::kStalled) && Clock::now() < deadline) {
      if (spins < 64) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      continue;
    }
    return r;
  }
}

bool ReservedType(std::uint16_t type) { return kappa::memlog::IsReservedType(type); }

int BadType(std::uint16_t type) {
  return Fail(KL_BAD_ARGUMENT, "record type " + std::to_string(type) +
                                   " is kappa's own: application types are 0 to " +
                                   std::to_string(kappa::memlog::kFirstReservedType - 1));
}

ClaimedRecord ToClaim(const kl_reservation& c) {
  ClaimedRecord r;
  r.data = static_cast<std::byte*>(c.data);
  r.size = c.size;
  r.offset = c.offset;
  r.reservation_start = c.internal[0];
  r.reservation_end = c.internal[1];
  r.first_seal_before = c.internal[2];
  return r;
}

}  // namespace

KL_EXPORT int kl_open(const char* name_or_path, kl_log** out) {
  if (out == nullptr) return Fail(KL_BAD_ARGUMENT, "kl_open: null out");
  *out = nullptr;
  if (name_or_path == nullptr) return Fail(KL_BAD_ARGUMENT, "kl_open: null name");
  return Guard("kl_open", [&] {
    auto log = Log::Open(Log::ResolvePath(name_or_path));
    if (!log.ok()) return Fail(KL_ERROR, log.status().message());
    auto producer = (*log)->NewProducer();
    if (!producer.ok()) return Fail(KL_ERROR, producer.status().message());
    auto handle = std::make_unique<kl_log>();
    handle->log = std::move(log).value();
    handle->producer = std::move(producer).value();
    *out = handle.release();
    return KL_OK;
  });
}

KL_EXPORT void kl_close(kl_log* log) {
  if (log == nullptr) return;
  log->producer.reset();  // before the log it appends to
  delete log;
}

KL_EXPORT int kl_get_info(const kl_log* log, kl_info* out) {
  if (log == nullptr || out == nullptr) return Fail(KL_BAD_ARGUMENT, "kl_get_info: null argument");
  return Guard("kl_get_info", [&] {
    const kappa::memlog::LogInfo info = log->log->Info();
    *out = kl_info{};
    out->path = log->log->path().c_str();
    out->capacity = info.capacity;
    out->max_payload = info.max_payload;
    out->policy = info.policy == kappa::memlog::Policy::kOverwrite ? 1 : 0;
    out->latest_offset = log->log->latest_offset();
    out->records_appended = log->producer->records_appended();
    return KL_OK;
  });
}

KL_EXPORT int kl_append(kl_log* log, uint16_t type, const void* data, uint32_t size,
                        int64_t timestamp_ns, int64_t timeout_ns, uint64_t* offset) {
  if (log == nullptr || (data == nullptr && size > 0))
    return Fail(KL_BAD_ARGUMENT, "kl_append: null argument");
  if (ReservedType(type)) return BadType(type);
  const auto payload = std::span(static_cast<const std::byte*>(data), size);
  const AppendResult r = WithRetries(
      timeout_ns, [&] { return log->producer->Append(payload, type, timestamp_ns, offset); });
  return FromAppend(r, *log, "append");
}

KL_EXPORT int kl_append_batch(kl_log* log, const kl_record* records, size_t count,
                              int64_t timeout_ns) {
  if (log == nullptr || (records == nullptr && count > 0))
    return Fail(KL_BAD_ARGUMENT, "kl_append_batch: null argument");
  if (count == 0) return KL_OK;
  return Guard("kl_append_batch", [&] {
    log->views.clear();
    for (size_t i = 0; i < count; ++i) {
      const kl_record& r = records[i];
      if (r.data == nullptr && r.size > 0)
        return Fail(KL_BAD_ARGUMENT,
                    "kl_append_batch: record " + std::to_string(i) + " has no data");
      if (ReservedType(r.type)) return BadType(r.type);
      log->views.push_back(RecordView{std::span(static_cast<const std::byte*>(r.data), r.size),
                                      r.type, r.timestamp_ns});
    }
    const AppendResult r =
        WithRetries(timeout_ns, [&] { return log->producer->AppendBatch(log->views); });
    return FromAppend(r, *log, "append of a batch");
  });
}

KL_EXPORT int kl_claim(kl_log* log, uint32_t size, kl_reservation* claim) {
  if (log == nullptr || claim == nullptr) return Fail(KL_BAD_ARGUMENT, "kl_claim: null argument");
  *claim = kl_reservation{};
  if (log->claim_open)
    return Fail(KL_BAD_ARGUMENT, "kl_claim: a claim is open already (commit or abort it first)");
  ClaimedRecord r;
  const AppendResult result = WithRetries(0, [&] { return log->producer->Claim(size, &r); });
  if (result != AppendResult::kOk) return FromAppend(result, *log, "claim");
  log->claim_open = true;
  claim->data = r.data;
  claim->size = r.size;
  claim->offset = r.offset;
  claim->internal[0] = r.reservation_start;
  claim->internal[1] = r.reservation_end;
  claim->internal[2] = r.first_seal_before;
  return KL_OK;
}

KL_EXPORT int kl_commit(kl_log* log, kl_reservation* claim, uint16_t type, int64_t timestamp_ns) {
  if (log == nullptr || claim == nullptr || claim->data == nullptr || !log->claim_open)
    return Fail(KL_BAD_ARGUMENT, "kl_commit: null argument, or no claim open");
  if (ReservedType(type)) {
    kl_abort(log, claim);
    return BadType(type);
  }
  ClaimedRecord r = ToClaim(*claim);
  const AppendResult result = log->producer->Commit(&r, type, timestamp_ns);
  *claim = kl_reservation{};
  log->claim_open = false;
  return FromAppend(result, *log, "commit");
}

KL_EXPORT int kl_abort(kl_log* log, kl_reservation* claim) {
  if (log == nullptr || claim == nullptr || claim->data == nullptr || !log->claim_open)
    return Fail(KL_BAD_ARGUMENT, "kl_abort: null argument, or no claim open");
  ClaimedRecord r = ToClaim(*claim);
  log->producer->Abort(&r);
  *claim = kl_reservation{};
  log->claim_open = false;
  return KL_OK;
}

KL_EXPORT const char* kl_last_error(void) { return t_error.c_str(); }
