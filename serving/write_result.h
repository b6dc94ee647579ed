// What a view write returns.
#pragma once

#include <string>

namespace kappa::serving {

enum class [[nodiscard]] WriteResult{
    kOk,
    kFull,         // the table could not grow (size limit, or no memory for the new file)
    kBadArgument,  // a key too long, a value of the wrong size, a reserved window start
    kWrongKey,     // a u64 key for a bytes-keyed view or the other way round
    kWrongShard,   // a sharded view: the key belongs to another shard (see serving/shard.h)
};
const char* WriteResultName(WriteResult r);
// WriteResultName, and for kFull from a keyed or windowed table the reason it could not grow
// (the file that could not be created and why: a full disk, a size limit).
std::string DescribeWriteResult(WriteResult r, const std::string& grow_error);

}  // namespace kappa::serving
