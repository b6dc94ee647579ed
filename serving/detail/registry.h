// The read side of a namespace registry: lock-free, through each entry's seqlock. The write side
// (under the registry file's flock) is in serving/namespace.cc.
//
// Thread safety: a RegistryMap is immutable after Open; any number of threads may read through
// it. Header-only (used by the header-only reader).
#pragma once

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "serving/detail/hash.h"
#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/format.h"
#include "serving/status.h"

namespace kappa::serving::detail {

// Reads a seqlock-protected record once: false if the writer was mid-update (or updated it while
// we copied). `copy` must read the record only through atomic loads.
template <class Copy>
inline bool TrySeqRead(const std::uint64_t& seq, Copy&& copy) {
  const std::uint64_t before = LoadAcquire(seq);
  if (before & 1) return false;
  copy();
  // acquire: the copy's loads complete before the seq is read again.
  std::atomic_thread_fence(std::memory_order_acquire);
  return LoadRelaxed(seq) == before;
}

// Registry entries change only under the registry lock, a few times per flip or retire; a
// process that dies mid-update leaves an odd seq, repaired by the next mutator. Readers give up
// after kEntryReadAttempts (yielding between tries).
inline constexpr int kEntryReadAttempts = 100000;

struct ViewRecord {
  std::uint32_t index = 0;
  std::uint64_t generation_word = 0;
  ViewKind kind = ViewKind::kKeyed;
  std::uint32_t version = 0;
  std::uint32_t shard = 0;
  std::uint32_t shard_count = 1;
  std::int64_t created_unix_ns = 0;
  std::string name;
  std::uint32_t generation() const { return WordGeneration(generation_word); }
};

struct AliasRecord {
  std::uint32_t index = 0;
  std::uint64_t current = 0;
  std::uint32_t previous = 0;
  std::int64_t flipped_unix_ns = 0;
  std::string name;
  std::uint32_t version() const { return AliasVersion(current); }
  std::uint32_t epoch() const { return AliasEpoch(current); }
};

inline std::uint64_t RegistryChecksum(const RegistryHeader& h) {
  return Hash64(&h, offsetof(RegistryHeader, checksum));
}

class RegistryMap {
 public:
  RegistryMap() = default;
  RegistryMap(RegistryMap&&) = default;
  RegistryMap& operator=(RegistryMap&&) = default;

  // Maps `dir_fd`/registry. REQUIRES: dir_fd stays open while this map is used for opening
  // files relative to it (the map itself does not need it).
  static Status Open(int dir_fd, const std::string& ns_path, bool writable, RegistryMap* out,
                     int* fd_out = nullptr) {
    const std::string path = ns_path + "/" + kRegistryFileName;
    Mapping m;
    Status s =
        MapFile(dir_fd, kRegistryFileName, path, writable, sizeof(RegistryHeader), &m, fd_out);
    if (!s.ok()) {
      if (s.code() == StatusCode::kNotFound)
        return Status::Error(StatusCode::kNotFound,
                             ns_path + ": not a view namespace (no registry)");
      return s;
    }
    RegistryHeader h;
    CopyFromShared(&h, m.data(), sizeof h);
    auto bad = [&](const std::string& what) {
      if (fd_out) ::close(*fd_out);
      return Status::Error(StatusCode::kCorrupt, path + ": " + what);
    };
    if (std::memcmp(h.magic, kRegistryMagic, sizeof kRegistryMagic) != 0)
      return bad("bad magic: not a kappa view registry");
    if (h.version != kFormatVersion)
      return bad("format version " + std::to_string(h.version) + ", this build reads version " +
                 std::to_string(kFormatVersion));
    if (RegistryChecksum(h) != h.checksum) return bad("header checksum mismatch");
    if (h.header_size != sizeof(RegistryHeader) || h.max_views != kRegistryViews ||
        h.max_aliases != kRegistryAliases)
      return bad("table sizes do not match this build");
    if (m.size() != kRegistrySize)
      return bad("file is " + std::to_string(m.size()) + " bytes, expected " +
                 std::to_string(kRegistrySize));
    out->map_ = std::move(m);
    out->path_ = path;
    return Status::Ok();
  }

  explicit operator bool() const { return static_cast<bool>(map_); }
  RegistryLayout* layout() const { return reinterpret_cast<RegistryLayout*>(map_.data()); }
  const std::string& path() const { return path_; }
  std::uint64_t changes() const { return LoadAcquire(layout()->header.changes); }

  // acquire: the view file a word names was complete before the word was stored.
  const std::uint64_t& generation_word(std::uint32_t i) const {
    return layout()->views[i].generation;
  }
  const std::uint64_t& alias_word(std::uint32_t i) const { return layout()->aliases[i].current; }

  // Copies view entry i. kNotFound if free; kBusy if it stayed mid-update.
  StatusCode ReadView(std::uint32_t i, ViewRecord* out) const {
    const ViewEntry& e = layout()->views[i];
    ViewEntry copy;
    for (int attempt = 0; attempt < kEntryReadAttempts; ++attempt) {
      if (TrySeqRead(e.seq, [&] {
            CopyFromShared(&copy, reinterpret_cast<const std::byte*>(&e), sizeof copy);
          })) {
        if (copy.state != static_cast<std::uint32_t>(EntryState::kLive))
          return StatusCode::kNotFound;
        out->index = i;
        out->generation_word = copy.generation;
        out->kind = static_cast<ViewKind>(copy.kind);
        out->version = copy.version;
        out->shard = copy.shard;
        out->shard_count = copy.shard_count == 0 ? 1 : copy.shard_count;
        out->created_unix_ns = copy.created_unix_ns;
        out->name = FixedString(copy.name);
        return StatusCode::kOk;
      }
      if (attempt > 64) sched_yield();
    }
    return StatusCode::kBusy;
  }

  StatusCode ReadAlias(std::uint32_t i, AliasRecord* out) const {
    const AliasEntry& e = layout()->aliases[i];
    AliasEntry copy;
    for (int attempt = 0; attempt < kEntryReadAttempts; ++attempt) {
      if (TrySeqRead(e.seq, [&] {
            CopyFromShared(&copy, reinterpret_cast<const std::byte*>(&e), sizeof copy);
          })) {
        if (copy.state != static_cast<std::uint32_t>(EntryState::kLive))
          return StatusCode::kNotFound;
        out->index = i;
        out->current = copy.current;
        out->previous = copy.previous;
        out->flipped_unix_ns = copy.flipped_unix_ns;
        out->name = FixedString(copy.name);
        return StatusCode::kOk;
      }
      if (attempt > 64) sched_yield();
    }
    return StatusCode::kBusy;
  }

  // The entry of shard `shard` of (name, version).
  Result<ViewRecord> FindView(std::string_view name, std::uint32_t version,
                              std::uint32_t shard = 0) const {
    for (std::uint32_t i = 0; i < kRegistryViews; ++i) {
      ViewRecord r;
      const StatusCode c = ReadView(i, &r);
      if (c == StatusCode::kBusy) return Busy();
      if (c == StatusCode::kOk && r.version == version && r.shard == shard && r.name == name)
        return r;
    }
    return Status::Error(StatusCode::kNotFound,
                         std::string(name) + "@" + std::to_string(version) +
                             (shard > 0 ? " shard " + std::to_string(shard) : "") +
                             ": no such view in " + NamespacePath());
  }

  // Every entry of (name, version): one, or one per shard, ordered by shard. kNotFound if none;
  // kFailedPrecondition (naming the first) if some shards are not there yet.
  Result<std::vector<ViewRecord>> FindShards(std::string_view name, std::uint32_t version) const {
    std::vector<ViewRecord> shards;
    for (std::uint32_t i = 0; i < kRegistryViews; ++i) {
      ViewRecord r;
      const StatusCode c = ReadView(i, &r);
      if (c == StatusCode::kBusy) return Busy();
      if (c == StatusCode::kOk && r.version == version && r.name == name)
        shards.push_back(std::move(r));
    }
    const std::string ref = std::string(name) + "@" + std::to_string(version);
    if (shards.empty())
      return Status::Error(StatusCode::kNotFound, ref + ": no such view in " + NamespacePath());
    std::sort(shards.begin(), shards.end(),
              [](const ViewRecord& a, const ViewRecord& b) { return a.shard < b.shard; });
    const std::uint32_t count = shards[0].shard_count;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (i >= shards.size() || shards[i].shard != i || shards[i].shard_count != count)
        return Status::Error(StatusCode::kFailedPrecondition, ref + ": shard " + std::to_string(i) +
                                                                  " of " + std::to_string(count) +
                                                                  " has not been created yet");
    }
    if (shards.size() != count)
      return Status::Error(StatusCode::kCorrupt, ref + ": shard counts disagree");
    return shards;
  }

  Result<AliasRecord> FindAlias(std::string_view name) const {
    for (std::uint32_t i = 0; i < kRegistryAliases; ++i) {
      AliasRecord r;
      const StatusCode c = ReadAlias(i, &r);
      if (c == StatusCode::kBusy) return Busy();
      if (c == StatusCode::kOk && r.name == name) return r;
    }
    return Status::Error(StatusCode::kNotFound,
                         std::string(name) + ": no such view in " + NamespacePath());
  }

  std::vector<ViewRecord> Views() const {
    std::vector<ViewRecord> v;
    for (std::uint32_t i = 0; i < kRegistryViews; ++i) {
      ViewRecord r;
      if (ReadView(i, &r) == StatusCode::kOk) v.push_back(std::move(r));
    }
    return v;
  }
  std::vector<AliasRecord> Aliases() const {
    std::vector<AliasRecord> v;
    for (std::uint32_t i = 0; i < kRegistryAliases; ++i) {
      AliasRecord r;
      if (ReadAlias(i, &r) == StatusCode::kOk) v.push_back(std::move(r));
    }
    return v;
  }

 private:
  std::string NamespacePath() const { return path_.substr(0, path_.rfind('/')); }
  Status Busy() const {
    return Status::Error(StatusCode::kBusy,
                         path_ + ": an entry stayed mid-update (a registry writer died?)");
  }

  Mapping map_;
  std::string path_;
};

// Splits "name" or "name@version". version 0: none given.
inline Status ParseViewRef(std::string_view ref, std::string* name, std::uint32_t* version) {
  const std::size_t at = ref.find('@');
  *version = 0;
  if (at != std::string_view::npos) {
    const std::string_view v = ref.substr(at + 1);
    std::uint64_t n = 0;
    bool ok = !v.empty() && v.size() <= 10;
    for (char c : v) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!ok || n == 0 || n > 0xFFFFFFFFu)
      return Status::Error(StatusCode::kInvalidArgument,
                           "bad view version in '" + std::string(ref) +
                               "': versions are whole numbers from 1 to 4294967295");
    *version = static_cast<std::uint32_t>(n);
    ref = ref.substr(0, at);
  }
  if (!ValidName(ref)) return BadName(ref);
  *name = std::string(ref);
  return Status::Ok();
}

}  // namespace kappa::serving::detail
