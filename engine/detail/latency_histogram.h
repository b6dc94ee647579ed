// LatencyHistogram: nanosecond latencies in log-linear buckets (8 per power of two: at most
// 1/8 = 12.5 % wide), counted with relaxed atomics so that one thread records while another
// reads percentiles.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace kappa::engine::detail {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 3;
  static constexpr int kBuckets = 64 << kSubBits;

  // Counts `n` samples of `ns` (a batch's records, each with the batch's worst latency).
  void Record(std::int64_t ns, std::uint64_t n = 1) {
    const std::uint64_t v = ns <= 0 ? 0 : static_cast<std::uint64_t>(ns);
    buckets_[Bucket(v)].fetch_add(n, std::memory_order_relaxed);
    count_.fetch_add(n, std::memory_order_relaxed);
    std::uint64_t max = max_.load(std::memory_order_relaxed);
    while (v > max && !max_.compare_exchange_weak(max, v, std::memory_order_relaxed)) {
    }
  }

  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::uint64_t max() const { return max_.load(std::memory_order_relaxed); }

  // The buckets as they are now (each read relaxed: not one instant, which percentiles allow).
  struct Counts {
    std::array<std::uint64_t, kBuckets> buckets{};
    std::uint64_t count = 0;
    std::uint64_t max = 0;
  };
  Counts Read() const {
    Counts c;
    for (int i = 0; i < kBuckets; ++i)
      c.count += c.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    c.max = max();
    return c;
  }

  // The upper bound of the bucket holding quantile q (0 if empty), since the start.
  std::uint64_t Percentile(double q) const { return Percentile(Read(), Counts{}, q); }
  // The same over the samples recorded between `before` and `now` (two Reads of one histogram).
  static std::uint64_t Percentile(const Counts& now, const Counts& before, double q) {
    const std::uint64_t total = now.count - before.count;
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += now.buckets[i] - before.buckets[i];
      if (seen >= rank) return std::min(UpperBound(i), now.max);
    }
    return now.max;
  }
  // The largest sample between `before` and `now`, to its bucket's upper bound.
  static std::uint64_t Max(const Counts& now, const Counts& before) {
    for (int i = kBuckets - 1; i >= 0; --i)
      if (now.buckets[i] != before.buckets[i]) return std::min(UpperBound(i), now.max);
    return 0;
  }

 private:
  static int Bucket(std::uint64_t v) {
    if (v < (1u << kSubBits)) return static_cast<int>(v);
    const int log2 = 63 - std::countl_zero(v);
    const int sub = static_cast<int>((v >> (log2 - kSubBits)) & ((1u << kSubBits) - 1));
    return ((log2 - kSubBits + 1) << kSubBits) + sub;
  }
  static std::uint64_t UpperBound(int bucket) {
    if (bucket < (1 << kSubBits)) return static_cast<std::uint64_t>(bucket);
    const int log2 = (bucket >> kSubBits) + kSubBits - 1;
    const std::uint64_t sub = static_cast<std::uint64_t>(bucket & ((1 << kSubBits) - 1));
    const std::uint64_t low = (std::uint64_t{1} << log2) | (sub << (log2 - kSubBits));
    return low + (std::uint64_t{1} << (log2 - kSubBits)) - 1;
  }

  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace kappa::engine::detail
