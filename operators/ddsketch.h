// DDSketch (Masson, Rim and Lee, VLDB 2019): a mergeable quantile sketch with relative accuracy
// kAlpha = 1 %: a quantile it returns is within 1 % of a value of the right rank, as long as the
// positive values span at most gamma^1024 ≈ 6e8 (8.8 decades) and the negative ones gamma^256
// ≈ 160 (beyond that the smallest magnitudes collapse into one bucket, and only quantiles among
// them lose their accuracy).
//
// Fixed size (about 10 KiB) and trivially copyable, so it can live in flat state tables and be
// checkpointed as bytes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>

namespace kappa::operators {

struct DDSketch {
  static constexpr double kAlpha = 0.01;

  // Counts of magnitudes in buckets [low, low + kBuckets) of the log-scale index.
  template <int kBuckets>
  struct Store {
    std::int32_t low = 0;
    std::int32_t min_index = std::numeric_limits<std::int32_t>::max();  // lowest index counted
    std::int32_t max_index = std::numeric_limits<std::int32_t>::min();  // highest index counted
    std::uint32_t reserved = 0;
    std::uint64_t counts[kBuckets] = {};

    bool empty() const { return min_index > max_index; }

    void Add(std::int32_t index, std::uint64_t n) {
      if (empty()) {
        low = index - kBuckets / 2;
      } else if (index >= low + kBuckets) {
        Shift(index - kBuckets + 1);  // make room above: the lowest buckets collapse
      } else if (index < low) {
        // Make room below if the counted range allows; else the new value collapses into the
        // lowest bucket (only the lowest magnitudes lose accuracy).
        if (max_index - index < kBuckets) {
          Shift(std::max(index, max_index - kBuckets + 1));
        } else {
          index = low;
        }
      }
      counts[index - low] += n;
      min_index = std::min(min_index, index);
      max_index = std::max(max_index, index);
    }

    // Moves the window to start at `new_low`; counts below it go to the new lowest bucket.
    void Shift(std::int32_t new_low) {
      std::uint64_t moved[kBuckets] = {};
      for (std::int32_t i = min_index; i <= max_index; ++i) {
        const std::uint64_t c = counts[i - low];
        if (c == 0) continue;
        const std::int32_t to = std::max(i, new_low);
        if (to - new_low < kBuckets) moved[to - new_low] += c;
      }
      std::copy(std::begin(moved), std::end(moved), std::begin(counts));
      low = new_low;
      min_index = std::max(min_index, new_low);
    }
  };

  Store<1024> positive;
  Store<256> negative;  // magnitudes of negative values
  std::uint64_t zero_count = 0;
  std::uint64_t count = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();

  static double Gamma() { return (1 + kAlpha) / (1 - kAlpha); }
  static std::int32_t Index(double magnitude) {
    return static_cast<std::int32_t>(std::ceil(std::log(magnitude) / std::log(Gamma())));
  }
  // The value a bucket stands for: within kAlpha of every magnitude in it.
  static double Value(std::int32_t index) { return 2 * std::pow(Gamma(), index) / (Gamma() + 1); }
  // Magnitudes below this count as zero.
  static constexpr double kMinMagnitude = 1e-12;

  void Add(double x) {
    if (std::isnan(x)) return;
    ++count;
    min = std::min(min, x);
    max = std::max(max, x);
    if (std::abs(x) < kMinMagnitude) {
      ++zero_count;
    } else if (x > 0) {
      positive.Add(Index(x), 1);
    } else {
      negative.Add(Index(-x), 1);
    }
  }

  void Merge(const DDSketch& other) {
    if (other.count == 0) return;
    for (std::int32_t i = other.positive.min_index; i <= other.positive.max_index; ++i)
      if (const std::uint64_t c = other.positive.counts[i - other.positive.low]) positive.Add(i, c);
    for (std::int32_t i = other.negative.min_index; i <= other.negative.max_index; ++i)
      if (const std::uint64_t c = other.negative.counts[i - other.negative.low]) negative.Add(i, c);
    zero_count += other.zero_count;
    count += other.count;
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }

  // The value at quantile q in [0, 1] (NaN if empty).
  double Quantile(double q) const {
    if (count == 0) return std::numeric_limits<double>::quiet_NaN();
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count - 1));
    std::uint64_t seen = 0;
    // Negative values, most negative first.
    for (std::int32_t i = negative.max_index; i >= negative.min_index && !negative.empty(); --i) {
      seen += negative.counts[i - negative.low];
      if (seen > rank) return std::clamp(-Value(i), min, max);
    }
    seen += zero_count;
    if (seen > rank) return std::clamp(0.0, min, max);
    for (std::int32_t i = positive.min_index; i <= positive.max_index; ++i) {
      seen += positive.counts[i - positive.low];
      if (seen > rank) return std::clamp(Value(i), min, max);
    }
    return max;
  }
};

}  // namespace kappa::operators
