// A job's metrics, as every job publishes them: a keyed view "metrics.<job>" in the engine's
// namespace (the version of the job's view), read in place by any process (`kappa stats`,
// `kappa top`, or a program of yours). Row 0 is the job as a whole, row 1 + p its partition p;
// each row is a MetricsRow, its fields named as its members.
//
//   auto reader = std::move(serving::ViewReader::Open(ns, MetricsViewName("q5"))).value();
//   reader->Scan([&](const serving::RowView& row) {
//     const MetricsRow m = DecodeMetrics(reader->schema(), row.value);
//     ...
//   });
//
// Latency percentiles come twice: latency_* over the records applied since the previous publish
// (about 200 ms), latency_total_* since the job started; row 0 has the worst partition's.
// Records appended before the job started are counted as replayed, not as latency (their age is
// not a delay).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>

#include "engine/record.h"
#include "serving/schema.h"

namespace kappa::engine {

struct MetricsRow {
  std::uint64_t records_in = 0;         // records of the source type read (row 0)
  std::uint64_t records_processed = 0;  // records the job (partition) processed
  std::uint64_t results = 0;            // results written to the sink
  std::uint64_t batches = 0;            // (row 0)
  std::uint64_t late = 0;               // records no window accepted
  std::uint64_t malformed = 0;          // records of the source type that did not decode (row 0)
  std::uint64_t lost_bytes = 0;         // overwritten or expired before they were read (row 0)
  std::uint64_t read_offset = 0;        // (row 0)
  std::uint64_t applied_offset = 0;     // everything before it is in the views
  std::uint64_t log_end = 0;
  std::uint64_t lag_bytes = 0;  // log_end - applied_offset
  std::uint64_t checkpoints = 0;
  std::uint64_t latency_count = 0;  // records measured since the job started
  std::uint64_t replayed = 0;       // records appended before the job started
  std::int64_t watermark_ns = 0;
  std::int64_t latency_p50_ns = 0;  // since the previous publish
  std::int64_t latency_p99_ns = 0;
  std::int64_t latency_p999_ns = 0;
  std::int64_t latency_max_ns = 0;
  std::int64_t latency_total_p50_ns = 0;  // since the job started
  std::int64_t latency_total_p99_ns = 0;
  std::int64_t latency_total_p999_ns = 0;
  std::int64_t updated_unix_ns = 0;
  double records_per_s = 0;  // (row 0)
};

inline constexpr char kMetricsViewPrefix[] = "metrics.";
inline std::string MetricsViewName(const std::string& job) { return kMetricsViewPrefix + job; }

}  // namespace kappa::engine

// (A view row, never a log record: its log type is not used.)
KAPPA_NAMED_RECORD(kappa::engine::MetricsRow, "metrics", 0, records_in, records_processed, results,
                   batches, late, malformed, lost_bytes, read_offset, applied_offset, log_end,
                   lag_bytes, checkpoints, latency_count, replayed, watermark_ns, latency_p50_ns,
                   latency_p99_ns, latency_p999_ns, latency_max_ns, latency_total_p50_ns,
                   latency_total_p99_ns, latency_total_p999_ns, updated_unix_ns, records_per_s);

namespace kappa::engine {

// The metrics view's schema: MetricsRow's fields.
inline serving::Schema MetricsSchema() { return std::move(RecordSchema<MetricsRow>()).value(); }

// A row of a metrics view of `schema` (possibly written by another build: fields are matched by
// name, and those it lacks stay 0).
inline MetricsRow DecodeMetrics(const serving::Schema& schema, std::span<const std::byte> value) {
  MetricsRow row;
  std::apply(
      [&](const auto&... field) {
        auto take = [&](const auto& f) {
          const int i = schema.Find(f.name);
          if (i < 0) return;
          using M = std::remove_cvref_t<decltype(row.*(f.member))>;
          const auto at = static_cast<std::size_t>(i);
          if constexpr (std::is_same_v<M, double>) {
            if (schema.field(at).type == serving::FieldType::kF64)
              row.*(f.member) = schema.GetF64(value, at);
          } else if constexpr (std::is_signed_v<M>) {
            if (schema.field(at).type == serving::FieldType::kI64)
              row.*(f.member) = schema.GetI64(value, at);
          } else {
            if (schema.field(at).type == serving::FieldType::kU64)
              row.*(f.member) = schema.GetU64(value, at);
          }
        };
        (take(field), ...);
      },
      RecordType<MetricsRow>::kFields);
  return row;
}

}  // namespace kappa::engine
