// Helpers the engine tests share: a log in /dev/shm, generated clicks, an engine.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "serving/view_reader.h"
#include "tests/engine/clicks.h"
#include "tests/serving/test_util.h"

namespace kappa::engine::testing {

using serving::testing::TempNamespace;

// Deletes the log at `path` and its record catalog (which jobs that write logs create).
inline void RemoveLog(const std::string& path) {
  ::unlink(path.c_str());
  ::unlink((path + ".types").c_str());
}

// A log in /dev/shm, removed at the end.
class TempLog {
 public:
  // With `archive_directory`, the log keeps its history there (and needs an archiver).
  explicit TempLog(std::uint64_t capacity = 64 << 20, const std::string& archive_directory = "") {
    static std::atomic<int> counter{0};
    path_ = "/dev/shm/kappa-test-engine-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1)) + ".log";
    ::unlink(path_.c_str());
    memlog::CreateOptions o;
    o.capacity = capacity;
    o.archive_directory = archive_directory;
    o.archive.segment_bytes = capacity / 2;
    o.archive.flush_interval = std::chrono::milliseconds(5);
    log_ = std::move(memlog::Log::Create(path_, o)).value();
    producer_ = std::move(log_->NewProducer()).value();
  }
  ~TempLog() {
    producer_.reset();
    log_.reset();
    RemoveLog(path_);
  }
  const std::string& path() const { return path_; }
  template <class T>
  void Append(const T& rec, std::int64_t timestamp, std::uint16_t type = RecordType<T>::kLogType) {
    ASSERT_EQ(producer_->AppendBlocking(std::as_bytes(std::span(&rec, 1)), type, timestamp,
                                        std::chrono::seconds(30)),
              memlog::AppendResult::kOk);
  }
  void AppendRaw(std::string_view bytes, std::uint16_t type) {
    ASSERT_EQ(producer_->Append(std::as_bytes(std::span(bytes.data(), bytes.size())), type, 0),
              memlog::AppendResult::kOk);
  }
  memlog::Log& log() { return *log_; }

 private:
  std::string path_;
  std::unique_ptr<memlog::Log> log_;
  std::unique_ptr<memlog::Producer> producer_;
};

inline std::vector<Click> MakeClicks(std::size_t n, std::uint64_t seed, std::int64_t disorder) {
  std::mt19937_64 rng(seed);
  std::vector<Click> clicks(n);
  std::int64_t clock = 1'000'000;
  for (Click& c : clicks) {
    clock += static_cast<std::int64_t>(rng() % 100);
    c = Click{static_cast<std::int64_t>(rng() % 500), static_cast<std::int64_t>(rng() % 40),
              static_cast<std::int64_t>(rng() % 1000),
              clock - static_cast<std::int64_t>(rng() % (disorder + 1))};
  }
  return clicks;
}

inline std::unique_ptr<Engine> MakeEngine(const TempNamespace& ns, int partitions,
                                          Mode mode = Mode::kThroughput, std::size_t batch = 0) {
  EngineOptions o;
  o.threads = 2;
  o.partitions = partitions;
  o.view_namespace = ns.path();
  o.mode = mode;
  o.batch_records = batch;
  auto e = Engine::Create(o);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return std::move(e).value();
}

// Two threads and partitions, views in `ns`, a checkpoint every millisecond into `dir`.
inline EngineOptions CheckpointingOptions(const TempNamespace& ns, const std::string& dir) {
  EngineOptions o;
  o.threads = 2;
  o.partitions = 2;
  o.view_namespace = ns.path();
  o.checkpoint_dir = dir;
  o.checkpoint_interval = std::chrono::milliseconds(1);
  return o;
}

// Every row of view `ref`: (key, window start, value bytes, offset of its last update), sorted:
// what two runs that must agree are compared by.
inline std::vector<std::tuple<std::uint64_t, std::int64_t, std::string, std::uint64_t>> SortedRows(
    const TempNamespace& ns, const std::string& ref) {
  std::vector<std::tuple<std::uint64_t, std::int64_t, std::string, std::uint64_t>> out;
  auto reader = serving::ViewReader::Open(ns.path(), ref);
  EXPECT_TRUE(reader.ok()) << ref << ": " << reader.status().message();
  if (!reader.ok()) return out;
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& row) {
    out.emplace_back(row.key_u64, row.window_start,
                     std::string(reinterpret_cast<const char*>(row.value.data()), row.value.size()),
                     row.offset);
    return true;
  }),
            serving::ReadStatus::kOk);
  std::sort(out.begin(), out.end());
  return out;
}

// The rows of view `ref` ("name" or "name@version") in scan order, each value decoded as Row;
// *keys, if given, receives each row's key and window start.
template <class Row>
std::vector<Row> ScanRows(const TempNamespace& ns, const std::string& ref,
                          std::vector<std::pair<std::uint64_t, std::int64_t>>* keys = nullptr) {
  auto reader = serving::ViewReader::Open(ns.path(), ref);
  EXPECT_TRUE(reader.ok()) << ref << ": " << reader.status().message();
  std::vector<Row> rows;
  if (!reader.ok()) return rows;
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& r) {
    EXPECT_EQ(r.value.size(), sizeof(Row));
    Row row;
    std::memcpy(&row, r.value.data(), sizeof row);
    rows.push_back(row);
    if (keys != nullptr) keys->emplace_back(r.key_u64, r.window_start);
    return true;
  }),
            serving::ReadStatus::kOk);
  return rows;
}

}  // namespace kappa::engine::testing
