// The shape of a view file a writer is about to create: checks shared by every writer kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "serving/detail/view_shape.h"
#include "serving/format.h"
#include "serving/schema.h"
#include "serving/status.h"

namespace kappa::serving::detail {

// The parts of a new view's shape every writer kind shares, checked (the name, the version, the
// key, the schema), with a fresh hash seed.
Result<ViewShape> BaseShape(std::string_view name, std::uint32_t version, ViewKind kind,
                            KeyType key_type, std::uint32_t key_size, const std::string& key_name,
                            const Schema& schema);
// `shard` of `shards` (a power of two up to kMaxShards) into s.
Status SetShards(std::string_view name, std::uint32_t shards, std::uint32_t shard, ViewShape* s);
// Slots for `expected` entries at a starting load of one half.
Result<std::uint64_t> SlotsFor(std::string_view name, std::uint64_t expected);
// kInvalidArgument naming the view.
Status InvalidView(std::string_view name, const std::string& what);

}  // namespace kappa::serving::detail
