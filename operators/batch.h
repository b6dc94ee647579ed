// Batch: the unit that crosses operator boundaries. Records travel in batches, never one by
// one: a batch holds the records (fixed-layout structs), the log offset and event time of each,
// and what the batch as a whole stands for (its place in the source's stream, the log position
// it reaches and the watermark after it).
//
// A batch's vectors keep their capacity when cleared, so a pool of batches serves a pipeline
// without allocating per record.
//
// Thread safety: none; a batch has one owner at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace kappa::operators {

inline constexpr std::int64_t kNoWatermark = std::numeric_limits<std::int64_t>::min();

template <class T>
struct Batch {
  static_assert(std::is_trivially_copyable_v<T>, "records are fixed-layout structs");

  std::vector<T> records;
  std::vector<std::uint64_t> offsets;  // log offset of each record
  std::vector<std::int64_t> times;     // event time of each record, ns
  // Per-record watermarks, set where lateness is decided (the source-wide watermark just
  // before each record): the same for a record whichever way the log is cut into batches.
  std::vector<std::int64_t> watermarks;
  std::uint64_t sequence = 0;             // the batch's position in its source's stream
  std::uint64_t end_offset = 0;           // log offset just past everything the batch covers
  std::int64_t watermark = kNoWatermark;  // after the batch

  std::size_t size() const { return records.size(); }
  bool empty() const { return records.empty(); }
  void clear() {
    records.clear();
    offsets.clear();
    times.clear();
    watermarks.clear();
  }
  void reserve(std::size_t n) {
    records.reserve(n);
    offsets.reserve(n);
    times.reserve(n);
    watermarks.reserve(n);
  }
  void push_back(const T& record, std::uint64_t offset, std::int64_t time) {
    records.push_back(record);
    offsets.push_back(offset);
    times.push_back(time);
  }
  // Copies the position of `other` (sequence, end offset, watermark), not its records.
  template <class U>
  void CopyPosition(const Batch<U>& other) {
    sequence = other.sequence;
    end_offset = other.end_offset;
    watermark = other.watermark;
  }
};

}  // namespace kappa::operators
