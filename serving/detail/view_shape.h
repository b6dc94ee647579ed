// ViewShape: a view file's immutable description, validated once and copied out of the mapping.
//
// Nothing in a view file is trusted before ValidateDescriptor has checked it against the file's
// real size; afterwards only the local copy is used, so a file changed behind our back cannot
// steer a reader out of bounds.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "serving/detail/hash.h"
#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/format.h"
#include "serving/schema.h"
#include "serving/status.h"

namespace kappa::serving::detail {

struct ViewShape {
  ViewKind kind = ViewKind::kKeyed;
  KeyType key_type = KeyType::kNone;
  std::uint32_t key_size = 0;
  std::uint32_t value_size = 0;
  std::uint32_t slot_size = 0;  // slot (keyed, windowed, list) or row (top-K) bytes
  SlotLayout slot{};            // keyed, windowed
  std::uint64_t capacity = 0;
  std::uint64_t mask = 0;  // keyed, windowed: capacity - 1
  std::uint64_t slots_offset = 0;
  std::uint64_t topk_buffer_size = 0;
  std::uint64_t hash_seed = 0;
  std::int64_t window_size_ns = 0;
  std::int64_t window_slide_ns = 0;
  std::int64_t retention_ns = 0;
  std::uint32_t windows_per_key = 0;
  std::uint32_t order_field = 0;
  bool order_descending = false;
  std::uint32_t view_version = 0;
  std::uint32_t generation = 0;
  std::uint32_t shard = 0;
  std::uint32_t shard_count = 1;
  std::int64_t created_unix_ns = 0;
  std::string name;
  std::string key_name;
  Schema schema;
};

inline std::uint64_t DescriptorChecksum(const ViewDescriptor& d) {
  return Hash64(&d, offsetof(ViewDescriptor, checksum));
}

// The bytes a view of this shape occupies (header + slots), or 0 on overflow.
inline std::uint64_t ViewFileSize(const ViewShape& s) {
  std::uint64_t body = 0;
  switch (s.kind) {
    case ViewKind::kKeyed:
    case ViewKind::kWindowed:
    case ViewKind::kList:
      if (s.capacity > (std::uint64_t{1} << 40) / s.slot_size) return 0;
      body = s.capacity * s.slot_size;
      break;
    case ViewKind::kTopK:
      body = 2 * s.topk_buffer_size;
      break;
  }
  return s.slots_offset + body;
}

inline Status ValidateDescriptor(const ViewDescriptor& d, std::uint64_t file_size,
                                 const std::string& path, ViewShape* out) {
  auto bad = [&](const std::string& what) {
    return Status::Error(StatusCode::kCorrupt, path + ": " + what);
  };
  if (std::memcmp(d.magic, kViewMagic, sizeof kViewMagic) != 0)
    return bad("bad magic: not a kappa view");
  if (d.version != kFormatVersion)
    return bad("format version " + std::to_string(d.version) + ", this build reads version " +
               std::to_string(kFormatVersion));
  if (DescriptorChecksum(d) != d.checksum) return bad("header checksum mismatch");
  if (d.header_size != kViewHeaderSize) return bad("header size " + std::to_string(d.header_size));
  if (d.file_size != file_size)
    return bad("file is " + std::to_string(file_size) + " bytes but its header describes " +
               std::to_string(d.file_size));
  ViewShape s;
  s.kind = static_cast<ViewKind>(d.kind);
  if (d.kind < 1 || d.kind > 4) return bad("unknown view kind " + std::to_string(d.kind));
  s.key_type = static_cast<KeyType>(d.key_type);
  switch (s.key_type) {
    case KeyType::kU64:
      if (d.key_size != 8) return bad("u64 key of size " + std::to_string(d.key_size));
      break;
    case KeyType::kBytes:
      if (d.key_size == 0 || d.key_size > kMaxKeyBytes)
        return bad("key size " + std::to_string(d.key_size));
      break;
    case KeyType::kNone:
      if (d.key_size != 0) return bad("keyless view with a key size");
      break;
    default:
      return bad("unknown key type " + std::to_string(d.key_type));
  }
  const bool needs_key = s.kind != ViewKind::kList;
  if (needs_key == (s.key_type == KeyType::kNone))
    return bad("key type does not suit the view kind");
  s.key_size = d.key_size;
  if (d.field_count == 0 || d.field_count > kMaxFields)
    return bad("field count " + std::to_string(d.field_count));

  // The schema: rebuilt from names, types and sizes, then compared with the stored offsets.
  std::vector<Field> fields;
  for (std::uint32_t i = 0; i < d.field_count; ++i) {
    const FieldDesc& f = d.fields[i];
    if (::strnlen(f.name, sizeof f.name) == sizeof f.name) return bad("field name not terminated");
    if (f.type < 1 || f.type > 4) return bad("field " + std::to_string(i) + " has unknown type");
    fields.push_back(Field{FixedString(f.name), static_cast<FieldType>(f.type), f.size, 0});
  }
  auto schema = Schema::Make(std::move(fields));
  if (!schema.ok()) return bad(schema.status().message());
  for (std::uint32_t i = 0; i < d.field_count; ++i) {
    if (schema->field(i).offset != d.fields[i].offset || schema->field(i).size != d.fields[i].size)
      return bad("field " + std::to_string(i) + " layout does not match its schema");
  }
  if (schema->value_size() != d.value_size)
    return bad("value size " + std::to_string(d.value_size));
  s.schema = std::move(schema).value();
  s.value_size = d.value_size;

  if (d.slots_offset != kViewHeaderSize)
    return bad("slots offset " + std::to_string(d.slots_offset));
  s.slots_offset = d.slots_offset;
  s.capacity = d.capacity;
  s.slot_size = d.slot_size;
  s.hash_seed = d.hash_seed;
  switch (s.kind) {
    case ViewKind::kKeyed:
    case ViewKind::kWindowed: {
      if (!std::has_single_bit(d.capacity) || d.capacity < kMinSlots || d.capacity > kMaxSlots)
        return bad("capacity " + std::to_string(d.capacity) +
                   " is not a power of two in [16, 2^32]");
      if (s.kind == ViewKind::kWindowed) {
        if (d.window_size_ns <= 0 || d.window_slide_ns <= 0 || d.window_slide_ns > d.window_size_ns)
          return bad("window size and slide out of range");
        if (d.windows_per_key == 0 || d.windows_per_key > kMaxWindowsPerKey)
          return bad("windows per key " + std::to_string(d.windows_per_key));
        if (d.retention_ns < 0) return bad("negative retention");
        s.window_size_ns = d.window_size_ns;
        s.window_slide_ns = d.window_slide_ns;
        s.retention_ns = d.retention_ns;
        s.windows_per_key = d.windows_per_key;
      }
      s.slot = MakeSlotLayout(s.kind, s.key_size, s.value_size, s.windows_per_key);
      if (s.slot.size != d.slot_size) return bad("slot size " + std::to_string(d.slot_size));
      s.mask = d.capacity - 1;
      break;
    }
    case ViewKind::kTopK:
      if (d.capacity == 0 || d.capacity > kMaxTopK)
        return bad("top-K size " + std::to_string(d.capacity));
      if (d.slot_size != TopKRowSize(s.key_size, s.value_size))
        return bad("row size " + std::to_string(d.slot_size));
      if (d.order_field >= d.field_count ||
          s.schema.field(d.order_field).type == FieldType::kString)
        return bad("order field " + std::to_string(d.order_field) + " is not a numeric field");
      s.order_field = d.order_field;
      s.order_descending = d.order_descending != 0;
      s.topk_buffer_size = TopKBufferSize(d.capacity, d.slot_size);
      break;
    case ViewKind::kList:
      if (d.capacity == 0 || d.capacity > kMaxListRows)
        return bad("list capacity " + std::to_string(d.capacity));
      if (d.slot_size != ListRowSize(s.value_size))
        return bad("row size " + std::to_string(d.slot_size));
      break;
  }
  const std::uint64_t expected = ViewFileSize(s);
  if (expected == 0 || expected != file_size)
    return bad("file is " + std::to_string(file_size) + " bytes but its layout needs " +
               std::to_string(expected));
  if (::strnlen(d.name, sizeof d.name) == sizeof d.name || !ValidName(FixedString(d.name)))
    return bad("bad view name in header");
  if (::strnlen(d.key_name, sizeof d.key_name) == sizeof d.key_name)
    return bad("key name not terminated");
  if (d.shard_count == 0 || d.shard_count > kMaxShards || !std::has_single_bit(d.shard_count) ||
      d.shard >= d.shard_count)
    return bad("shard " + std::to_string(d.shard) + " of " + std::to_string(d.shard_count));
  if (d.shard_count > 1 && s.kind != ViewKind::kKeyed && s.kind != ViewKind::kWindowed)
    return bad("only keyed and windowed views have shards");
  s.shard = d.shard;
  s.shard_count = d.shard_count;
  s.view_version = d.view_version;
  s.generation = d.generation;
  s.created_unix_ns = d.created_unix_ns;
  s.name = FixedString(d.name);
  s.key_name = FixedString(d.key_name);
  *out = std::move(s);
  return Status::Ok();
}

// Maps a view file read-only (or read-write for its writer) and validates it.
inline Status MapView(int dir_fd, const std::string& file, const std::string& path, bool writable,
                      Mapping* map, ViewShape* shape, int* fd_out = nullptr) {
  Mapping m;
  int fd = -1;
  Status s = MapFile(dir_fd, file, path, writable, kViewHeaderSize, &m, &fd);
  if (!s.ok()) return s;
  // Copy the descriptor out once: the checks and everything after use the copy.
  ViewDescriptor d;
  CopyFromShared(&d, m.data(), sizeof d);
  s = ValidateDescriptor(d, m.size(), path, shape);
  if (!s.ok()) {
    ::close(fd);
    return s;
  }
  if (fd_out) {
    *fd_out = fd;
  } else {
    ::close(fd);
  }
  *map = std::move(m);
  return Status::Ok();
}

}  // namespace kappa::serving::detail
