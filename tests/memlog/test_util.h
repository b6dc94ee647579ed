// Helpers shared by the memlog tests.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::memlog::testing {

// A unique path under /dev/shm, removed when the object goes.
class TempPath {
 public:
  TempPath() {
    static std::atomic<int> counter{0};
    path_ = "/dev/shm/kappa-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1)) + ".log";
    ::unlink(path_.c_str());
  }
  ~TempPath() { ::unlink(path_.c_str()); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

inline std::span<const std::byte> Bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}
inline std::string Str(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// A payload that names its producer and sequence number, padded to `size` bytes with a pattern
// derived from both.
struct Tagged {
  std::uint32_t producer;
  std::uint64_t seq;
};
inline std::vector<std::byte> MakeTagged(std::uint32_t producer, std::uint64_t seq,
                                         std::size_t size) {
  std::vector<std::byte> v(std::max<std::size_t>(size, 12));
  std::memcpy(v.data(), &producer, 4);
  std::memcpy(v.data() + 4, &seq, 8);
  for (std::size_t i = 12; i < v.size(); ++i) v[i] = std::byte((seq * 31 + i + producer) & 0xFF);
  return v;
}
inline bool ParseTagged(std::span<const std::byte> p, Tagged* out) {
  if (p.size() < 12) return false;
  std::memcpy(&out->producer, p.data(), 4);
  std::memcpy(&out->seq, p.data() + 4, 8);
  for (std::size_t i = 12; i < p.size(); ++i)
    if (p[i] != std::byte((out->seq * 31 + i + out->producer) & 0xFF)) return false;
  return true;
}

// Reads every record from `reader` until it is empty, appending payloads to `out`.
inline std::vector<std::string> Drain(LogReader& reader) {
  std::vector<std::string> out;
  RecordBatch batch;
  while (reader.Poll(&batch) == PollStatus::kOk) {
    for (const Record& r : batch) out.push_back(Str(r.payload));
  }
  return out;
}

}  // namespace kappa::memlog::testing
