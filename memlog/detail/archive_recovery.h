// Recovery of an archive directory: what an Archiver does before it writes, and what Log::Create
// does before it makes a new ring from an archive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memlog/archive.h"
#include "memlog/status.h"

namespace kappa::memlog::detail {

struct ArchiveRecovery {
  Manifest manifest;               // as recovered (and written back if it changed)
  std::vector<std::string> notes;  // what was dropped, removed or set aside, one sentence each
};

// Brings the archive in `dir_fd` (at `directory`) to a state with no segment being written:
//  - the manifest must parse and name `identity` (32 hex digits; empty: any);
//  - sealed segments it lists must exist with their exact size; missing ones at the start are
//    dropped from the manifest (the archive then starts later), anywhere else they are an error;
//  - the segment that was being written, and any after it the manifest does not list yet, are
//    sealed at the end of their valid frames (checksums and lap tags checked); a torn or damaged
//    tail is cut off, a segment whose header is damaged is set aside as "<name>.damaged";
//  - files below the archive's start (an interrupted retention) and temporary files are removed,
//    and so is the copy a compression left next to a segment (the manifest says which file holds
//    its frames); a compressed file the manifest does not list is set aside;
// Only segments not yet sealed are read; sealed ones are only looked at with stat.
// REQUIRES: the caller holds the archive's lock (DIR/LOCK).
Result<ArchiveRecovery> RecoverArchive(int dir_fd, const std::string& directory,
                                       const std::string& identity);

// Writes `manifest` as the archive's MANIFEST, atomically.
Status WriteManifest(int dir_fd, const std::string& directory, const Manifest& manifest);

// Writes the time index of a sealed segment as "<base>.idx", atomically.
Status WriteIndex(int dir_fd, const std::string& directory, std::uint64_t base, std::uint64_t end,
                  const std::vector<IndexEntry>& entries);
// Reads the index of segment `base`; kNotFound or kCorrupt (the caller then walks the segment).
Result<std::vector<IndexEntry>> ReadIndex(int dir_fd, const std::string& directory,
                                          std::uint64_t base, std::uint64_t end);

// Takes the archive's lock (DIR/LOCK, an exclusive flock held until the returned fd is closed);
// kBusy if another process holds it.
Result<int> LockArchive(int dir_fd, const std::string& directory);

}  // namespace kappa::memlog::detail
