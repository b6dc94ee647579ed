// The records a keyed operator's results are as a stream (engine/pipeline.h): what a window's,
// a session's or a running aggregate's result looks like to the steps after it.
//
//   From<Bid>("q5", "events")
//       .KeyBy([](const Bid& b) { return b.auction; })
//       .Window(operators::HoppingWindows(10s, 2s))
//       .Aggregate(operators::Count<Bid>{})     // a stream of WindowResult<std::int64_t, u64>
//       .KeyBy([](const auto& r) { return r.start; })
//       ...
#pragma once

#include <cstdint>

namespace kappa::engine {

// The result of one key's window (tumbling, hopping or a session): [start, end) in event time.
// As a stream record its event time is end - 1, the window's last instant.
template <class K, class V>
struct WindowResult {
  K key;
  std::int64_t start;
  std::int64_t end;
  V value;
};

// A key's result after a record changed it (a running aggregate's stream has one per record),
// or a result with the key it belongs to. As a stream record its event time is the record's.
template <class K, class V>
struct KeyedResult {
  K key;
  V value;
};

}  // namespace kappa::engine
