#include "serving/detail/new_shape.h"

#include <algorithm>
#include <bit>
#include <random>

#include "serving/detail/clock.h"
#include "serving/detail/names.h"

namespace kappa::serving::detail {

Status InvalidView(std::string_view name, const std::string& what) {
  return Status::Error(StatusCode::kInvalidArgument, std::string(name) + ": " + what);
}

Result<ViewShape> BaseShape(std::string_view name, std::uint32_t version, ViewKind kind,
                            KeyType key_type, std::uint32_t key_size, const std::string& key_name,
                            const Schema& schema) {
  if (!ValidName(name)) return BadName(name);
  if (version == 0) return InvalidView(name, "view versions start at 1");
  if (schema.size() == 0)
    return InvalidView(name, "the value schema has no fields (make it with Schema::Make)");
  ViewShape s;
  s.kind = kind;
  s.key_type = key_type;
  if (kind == ViewKind::kList) {
    s.key_type = KeyType::kNone;
    s.key_size = 0;
  } else if (key_type == KeyType::kU64) {
    s.key_size = 8;
  } else if (key_type == KeyType::kBytes) {
    if (key_size == 0 || key_size > kMaxKeyBytes)
      return InvalidView(name, "bytes keys hold 1 to " + std::to_string(kMaxKeyBytes) +
                                   " bytes, not " + std::to_string(key_size));
    s.key_size = key_size;
  } else {
    return InvalidView(name, "a keyed view needs a u64 or bytes key");
  }
  if (kind != ViewKind::kList) {
    if (!Schema::ValidFieldName(key_name))
      return InvalidView(name, "bad key name '" + key_name + "'");
    if (schema.Find(key_name) >= 0)
      return InvalidView(name, "the key name '" + key_name + "' is also the name of a value field");
    s.key_name = key_name;
  }
  s.value_size = schema.value_size();
  s.schema = schema;
  s.slots_offset = kViewHeaderSize;
  s.view_version = version;
  s.generation = 0;
  s.created_unix_ns = UnixNs();
  s.name = std::string(name);
  std::random_device rd;
  s.hash_seed = (std::uint64_t{rd()} << 32) | rd();
  return s;
}

Status SetShards(std::string_view name, std::uint32_t shards, std::uint32_t shard, ViewShape* s) {
  if (shards == 0 || shards > kMaxShards || (shards & (shards - 1)) != 0)
    return InvalidView(name,
                       "shards must be a power of two from 1 to " + std::to_string(kMaxShards));
  if (shard >= shards)
    return InvalidView(name, "shard " + std::to_string(shard) + " of " + std::to_string(shards));
  s->shard = shard;
  s->shard_count = shards;
  return Status::Ok();
}

Result<std::uint64_t> SlotsFor(std::string_view name, std::uint64_t expected) {
  if (expected == 0 || expected > kMaxSlots / 2)
    return InvalidView(name, "expected entries must be 1 to " + std::to_string(kMaxSlots / 2));
  return std::max<std::uint64_t>(kMinSlots, std::bit_ceil(expected * 2));
}

}  // namespace kappa::serving::detail
