// Helpers the engine tests share: a log in /dev/shm, generated clicks, an engine.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "tests/engine/clicks.h"
#include "tests/serving/test_util.h"

namespace kappa::engine::testing {

using serving::testing::TempNamespace;

// A log in /dev/shm, removed at the end.
class TempLog {
 public:
  explicit TempLog(std::uint64_t capacity = 64 << 20) {
    static std::atomic<int> counter{0};
    path_ = "/dev/shm/kappa-test-engine-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ".log";
    ::unlink(path_.c_str());
    memlog::CreateOptions o;
    o.capacity = capacity;
    log_ = std::move(memlog::Log::Create(path_, o)).value();
    producer_ = std::move(log_->NewProducer()).value();
  }
  ~TempLog() {
    producer_.reset();
    log_.reset();
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  template <class T>
  void Append(const T& rec, std::int64_t timestamp, std::uint16_t type = RecordType<T>::kLogType) {
    ASSERT_EQ(producer_->Append(std::as_bytes(std::span(&rec, 1)), type, timestamp), memlog::AppendResult::kOk);
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
              static_cast<std::int64_t>(rng() % 1000), clock - static_cast<std::int64_t>(rng() % (disorder + 1))};
  }
  return clicks;
}

inline std::unique_ptr<Engine> MakeEngine(const TempNamespace& ns, int partitions, Mode mode = Mode::kThroughput,
                                   std::size_t batch = 0) {
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

}  // namespace kappa::engine::testing
