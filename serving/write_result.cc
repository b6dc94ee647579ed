#include "serving/write_result.h"

namespace kappa::serving {

std::string DescribeWriteResult(WriteResult r, const std::string& grow_error) {
  std::string text = WriteResultName(r);
  if (r == WriteResult::kFull && !grow_error.empty()) text += ": " + grow_error;
  return text;
}

const char* WriteResultName(WriteResult r) {
  switch (r) {
    case WriteResult::kOk:
      return "ok";
    case WriteResult::kFull:
      return "full (the table could not grow)";
    case WriteResult::kBadArgument:
      return "bad argument";
    case WriteResult::kWrongKey:
      return "wrong key type for this view";
    case WriteResult::kWrongShard:
      return "the key belongs to another shard";
  }
  return "unknown";
}

}  // namespace kappa::serving
