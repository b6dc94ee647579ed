// Namespace: a directory of views and its registry of view versions and aliases.
//
// A view has a name and numbered versions; each version is a file (a keyed table that grows
// moves to a new file generation). The alias of a name says which version readers of that name
// see: the first version created becomes current; Flip moves readers to another version with one
// atomic store; Revert flips back to the version before; Retire deletes a version: never the
// current one, and retiring the previous one ends the chance to revert to it.
//
// Thread safety: all methods may be called from any thread and any process at once; mutations
// serialize on an exclusive flock of the registry file (released by the kernel if the holder
// dies; the next holder repairs any entry left mid-update).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serving/detail/registry.h"
#include "serving/format.h"
#include "serving/status.h"

namespace kappa::serving {

struct VersionListing {
  std::uint32_t version = 0;
  std::uint32_t generation = 0;  // shard 0's
  std::uint32_t shard_count = 1;
  std::uint32_t shards_present = 1;  // below shard_count while shard writers are still starting
  ViewKind kind = ViewKind::kKeyed;
  std::int64_t created_unix_ns = 0;
  bool current = false;   // the alias names it
  bool previous = false;  // Revert would return to it
};

struct ViewListing {
  std::string name;
  std::uint32_t current = 0;  // 0: no alias
  std::uint32_t previous = 0;
  std::uint32_t alias_epoch = 0;
  std::int64_t flipped_unix_ns = 0;
  std::vector<VersionListing> versions;  // ascending
};

// What RemoveOrphans found and removed.
struct OrphanSweep {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

class Namespace {
 public:
  // Opens namespace `ns` (a name under $KAPPA_VIEW_DIR, default /dev/shm/kappa/views, or a
  // directory path), creating the directory (0700) and registry (0600) if `create`.
  static Result<std::unique_ptr<Namespace>> Open(std::string_view ns, bool create = true);

  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& path() const { return path_; }
  int dir_fd() const { return dir_fd_; }
  const detail::RegistryMap& registry() const { return registry_; }

  // Every view name with its versions and alias, sorted by name.
  std::vector<ViewListing> List() const;
  Result<ViewListing> Describe(std::string_view name) const;

  // Makes `version` of `name` current. kNotFound if that version does not exist;
  // kFailedPrecondition if some of its shards do not exist yet.
  Status Flip(std::string_view name, std::uint32_t version);
  // Flips back to the previous version (and remembers the one it left, so a second Revert
  // undoes the first). kFailedPrecondition if there is none.
  Status Revert(std::string_view name);
  // Deletes `version` of `name` (its files and registry entry). Refuses the current version;
  // retiring the previous one ends the chance to revert to it. Readers still on it get kGone on
  // their next read.
  Status Retire(std::string_view name, std::uint32_t version);
  // Deletes every version of `name` and its alias: the view is gone for good.
  Status Drop(std::string_view name);
  // Removes the view files no registry entry names that no writer holds: what a writer killed
  // while creating a view, a shard or a new generation left behind (a file is created, locked
  // and filled before it is registered). Files younger than `min_age` are left to the writer
  // that may be between creating and locking one. `kappa view ls` and `drop`, Engine::Create
  // and Engine::Reprocess call it.
  Result<OrphanSweep> RemoveOrphans(std::chrono::nanoseconds min_age = std::chrono::seconds(2));

  // ---- For view writers ----
  // Adds shard `shard` of `shard_count` of (name, version) at file generation `generation`. The
  // file must be complete. The first entry of a name also creates its alias, pointing at its
  // version. kAlreadyExists if present; kInvalidArgument if other shards of the version disagree
  // on the kind or the shard count.
  Status AddView(std::string_view name, std::uint32_t version, ViewKind kind,
                 std::uint32_t generation, std::uint32_t shard = 0, std::uint32_t shard_count = 1);
  // Publishes a new file generation of (name, version, shard): readers move to it on their next
  // read.
  Status PublishGeneration(std::string_view name, std::uint32_t version, std::uint32_t generation,
                           std::uint32_t shard = 0);

 private:
  Namespace() = default;
  class Lock;
  void RepairLocked();
  // Frees a view entry and removes its files. REQUIRES: the registry lock.
  void FreeEntryLocked(const detail::ViewRecord& v);

  std::string path_;
  int dir_fd_ = -1;
  int registry_fd_ = -1;
  detail::RegistryMap registry_;
};

}  // namespace kappa::serving
