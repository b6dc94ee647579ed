// The options a pipeline's source and sinks take (engine/pipeline.h).
#pragma once

#include <cstdint>
#include <string>

#include "memlog/log.h"

namespace kappa::engine {

// Where a job starts reading its log.
struct SourceOptions {
  memlog::StartAt start = memlog::StartAt::Earliest();
  // A named durable cursor in the log: the job resumes from it (`start` applies only when it is
  // new) and commits what it has applied, so that a Block-policy log can reuse that space.
  std::string cursor;
};

// How ArgMax (engine/pipeline.h) bounds its windows.
struct ArgMaxOptions {
  // The records at a window's end instant also tie with the window (never setting its max):
  // SQL's `time BETWEEN window_start AND window_end`, both ends included.
  bool include_end = false;
};

// How results become a view.
struct ViewSinkOptions {
  std::string key_name = "key";
  std::string value_name = "value";       // the value field of a scalar result
  std::uint64_t expected_keys = 1 << 16;  // per partition; views grow past it (windowed views
                                          // size for each key's open windows)
  // Windowed views: the windows of a key the view keeps (its latest), at most 64; 0: those a key
  // has open at once (size / slide + 1), and at least 8.
  std::uint32_t windows_per_key = 0;
  std::int64_t retention_ns = 0;  // windowed views: expire windows this long after they end
  std::string order_field;        // top-K views: the numeric field rows are ranked by
                                  // ("": the first field)
  bool ascending = false;         // top-K views: smallest first instead of largest
};

}  // namespace kappa::engine
