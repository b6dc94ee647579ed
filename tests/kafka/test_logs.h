// Logs for the Kafka tests: numbered records to mirror, and a log's records to compare.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "memlog/format.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::testing {

using memlog::Log;

using Row = std::tuple<std::uint16_t, std::int64_t, std::string>;  // type, timestamp, payload

inline std::unique_ptr<Log> MustCreate(const std::string& path, std::uint64_t capacity = 16 << 20) {
  memlog::CreateOptions options;
  options.capacity = capacity;
  auto log = Log::Create(path, options);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return std::move(*log);
}

// Appends `count` records numbered from `first`: types 1 to 3, payloads of 8 to 300 bytes.
inline void AppendNumbered(Log* log, int first, int count) {
  auto producer = log->NewProducer();
  ASSERT_TRUE(producer.ok());
  for (int i = first; i < first + count; ++i) {
    std::string payload = "record " + std::to_string(i) + " ";
    payload.resize(8 + (i * 37) % 293, static_cast<char>('a' + i % 26));
    ASSERT_EQ((*producer)->Append(std::as_bytes(std::span(payload)),
                                  static_cast<std::uint16_t>(1 + i % 3), 1'000'000'000LL * i),
              memlog::AppendResult::kOk);
  }
}

// The log's records, kappa's own left out.
inline std::vector<Row> Rows(Log* log) {
  std::vector<Row> rows;
  auto reader = log->NewReader(memlog::StartAt::Earliest());
  EXPECT_TRUE(reader.ok());
  memlog::RecordBatch batch;
  while ((*reader)->Poll(&batch) == memlog::PollStatus::kOk)
    for (const memlog::Record& r : batch)
      if (!memlog::IsReservedType(r.type))
        rows.emplace_back(
            r.type, r.timestamp_ns,
            std::string(reinterpret_cast<const char*>(r.payload.data()), r.payload.size()));
  return rows;
}

inline std::size_t CountType(Log* log, std::uint16_t type) {
  std::size_t n = 0;
  auto reader = log->NewReader(memlog::StartAt::Earliest());
  memlog::RecordBatch batch;
  while ((*reader)->Poll(&batch) == memlog::PollStatus::kOk)
    for (const memlog::Record& r : batch) n += r.type == type;
  return n;
}

}  // namespace kappa::testing
