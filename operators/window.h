// Event-time windows: which windows a timestamp belongs to.
//
// Windows are aligned to the epoch, as in the Beam and Flink models: a tumbling window of size S
// holding t starts at floor(t / S) * S; a hopping window of size S sliding every L holds every t
// in [start, start + S) for each start that is a multiple of L. Session windows depend on a
// key's other records and are kept by SessionAggregator.
//
// Event times are nanoseconds since the epoch; sizes, slides and gaps are std::chrono durations
// (`HoppingWindows(10s, 2s)`), or whole nanoseconds.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/check.h"

namespace kappa::operators {

struct Window {
  std::int64_t start = 0;
  std::int64_t end = 0;  // exclusive
  bool operator==(const Window&) const = default;
};

// floor(t / d) * d for any sign of t. REQUIRES: d > 0.
constexpr std::int64_t FloorTo(std::int64_t t, std::int64_t d) {
  KAPPA_DCHECK(d > 0, "FloorTo: the divisor must be > 0");
  const std::int64_t r = t % d;
  return r < 0 ? t - r - d : t - r;
}

class TumblingWindows {
 public:
  // REQUIRES: size > 0.
  explicit constexpr TumblingWindows(std::int64_t size) : size_(size) {
    KAPPA_DCHECK(size > 0, "TumblingWindows: the size must be > 0");
  }
  explicit constexpr TumblingWindows(std::chrono::nanoseconds size)
      : TumblingWindows(size.count()) {}
  constexpr std::int64_t size() const { return size_; }
  constexpr std::int64_t slide() const { return size_; }
  // Calls fn(Window) for each window holding t: exactly one.
  template <class Fn>
  void Assign(std::int64_t t, Fn&& fn) const {
    const std::int64_t start = FloorTo(t, size_);
    fn(Window{start, start + size_});
  }
  // The end of the last window that holds t: once the watermark passes it, t is late for all.
  std::int64_t LastEnd(std::int64_t t) const { return FloorTo(t, size_) + size_; }

 private:
  std::int64_t size_;
};

class HoppingWindows {
 public:
  // REQUIRES: 0 < slide <= size.
  constexpr HoppingWindows(std::int64_t size, std::int64_t slide) : size_(size), slide_(slide) {
    KAPPA_DCHECK(slide > 0 && slide <= size, "HoppingWindows: the slide must be in (0, size]");
  }
  constexpr HoppingWindows(std::chrono::nanoseconds size, std::chrono::nanoseconds slide)
      : HoppingWindows(size.count(), slide.count()) {}
  constexpr std::int64_t size() const { return size_; }
  constexpr std::int64_t slide() const { return slide_; }
  // Calls fn(Window) for each window holding t, oldest first (ceil(size / slide) of them, or
  // one fewer when slide does not divide size and t falls late in its slide).
  template <class Fn>
  void Assign(std::int64_t t, Fn&& fn) const {
    const std::int64_t last = FloorTo(t, slide_);
    std::int64_t start = last;
    while (start - slide_ > t - size_) start -= slide_;
    for (; start <= last; start += slide_) fn(Window{start, start + size_});
  }
  std::int64_t LastEnd(std::int64_t t) const { return FloorTo(t, slide_) + size_; }

 private:
  std::int64_t size_;
  std::int64_t slide_;
};

// Session windows: a key's records at most `gap` apart in event time form one session (records
// exactly one gap apart included, as in Flink's SESSION windows), from its first record's time
// to its last one's plus the gap. Which session a record joins depends on the key's other
// records: SessionAggregator keeps them.
class SessionWindows {
 public:
  // REQUIRES: gap > 0.
  explicit constexpr SessionWindows(std::int64_t gap) : gap_(gap) {
    KAPPA_DCHECK(gap > 0, "SessionWindows: the gap must be > 0");
  }
  explicit constexpr SessionWindows(std::chrono::nanoseconds gap) : SessionWindows(gap.count()) {}
  constexpr std::int64_t gap() const { return gap_; }

 private:
  std::int64_t gap_;
};

}  // namespace kappa::operators
