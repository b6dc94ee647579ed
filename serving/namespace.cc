#include "serving/namespace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "serving/detail/clock.h"
#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/detail/view_shape.h"

namespace kappa::serving {

using detail::LoadRelaxed;
using detail::StoreRelaxed;
using detail::StoreRelease;

// Holds the registry's exclusive flock; repairs entries a dead holder left mid-update.
class Namespace::Lock {
 public:
  explicit Lock(Namespace* ns) : ns_(ns) {
    while (::flock(ns_->registry_fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
    ns_->RepairLocked();
  }
  ~Lock() { ::flock(ns_->registry_fd_, LOCK_UN); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  Namespace* ns_;
};

namespace {

// Writes one registry entry under its seqlock. REQUIRES: the registry lock.
class EntryWrite {
 public:
  explicit EntryWrite(std::uint64_t& seq) : seq_(seq), value_(LoadRelaxed(seq) | 1) {
    StoreRelaxed(seq_, value_);
    // release: the odd seq is visible before any field changes.
    std::atomic_thread_fence(std::memory_order_release);
  }
  ~EntryWrite() { StoreRelease(seq_, value_ + 1); }  // release: the fields before the even seq
  EntryWrite(const EntryWrite&) = delete;
  EntryWrite& operator=(const EntryWrite&) = delete;

 private:
  std::uint64_t& seq_;
  std::uint64_t value_;
};

void StoreName(char (&dst)[64], std::string_view name) {
  char buf[64] = {};
  std::memcpy(buf, name.data(), std::min<std::size_t>(name.size(), 63));
  detail::CopyToShared(reinterpret_cast<std::byte*>(dst), buf, sizeof buf);
}

void BumpChanges(RegistryLayout* r) {
  std::atomic_ref<std::uint64_t>(r->header.changes).fetch_add(1, std::memory_order_release);
}

Status MakeDirectories(const std::string& path) {
  // Creates each missing component (0700); an existing one must be a directory.
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return detail::ErrnoStatus(part, "cannot create directory", errno);
  }
  return Status::Ok();
}

// Creates the registry file atomically: a temporary file, initialized, then linked into place.
Status CreateRegistry(int dir_fd, const std::string& ns_path) {
  std::random_device rd;
  const std::string tmp = std::string(kRegistryFileName) + "." + std::to_string(::getpid()) + "." +
                          std::to_string(rd()) + ".tmp";
  const std::string tmp_path = ns_path + "/" + tmp;
  const int fd =
      ::openat(dir_fd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return detail::ErrnoStatus(tmp_path, "cannot create", errno);
  Status s;
  if (const int err = ::posix_fallocate(fd, 0, kRegistrySize); err != 0) {
    s = detail::ErrnoStatus(tmp_path, "cannot allocate", err);
  } else {
    RegistryHeader h{};
    std::memcpy(h.magic, kRegistryMagic, sizeof h.magic);
    h.version = kFormatVersion;
    h.header_size = sizeof(RegistryHeader);
    h.max_views = kRegistryViews;
    h.max_aliases = kRegistryAliases;
    h.created_unix_ns = detail::UnixNs();
    h.checksum = detail::RegistryChecksum(h);
    if (::pwrite(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h))
      s = detail::ErrnoStatus(tmp_path, "cannot write", errno);
  }
  ::close(fd);
  if (s.ok() && ::linkat(dir_fd, tmp.c_str(), dir_fd, kRegistryFileName, 0) != 0 && errno != EEXIST)
    s = detail::ErrnoStatus(ns_path + "/" + kRegistryFileName, "cannot create", errno);
  ::unlinkat(dir_fd, tmp.c_str(), 0);
  return s;
}

}  // namespace

Result<std::unique_ptr<Namespace>> Namespace::Open(std::string_view ns, bool create) {
  std::unique_ptr<Namespace> n(new Namespace());
  n->path_ = detail::NamespacePath(ns);
  if (create) {
    if (Status s = MakeDirectories(n->path_); !s.ok()) return s;
  }
  if (Status s = detail::OpenDirectory(n->path_, &n->dir_fd_); !s.ok()) return s;
  if (create && ::faccessat(n->dir_fd_, kRegistryFileName, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
    if (Status s = CreateRegistry(n->dir_fd_, n->path_); !s.ok()) return s;
  }
  if (Status s = detail::RegistryMap::Open(n->dir_fd_, n->path_, /*writable=*/true, &n->registry_,
                                           &n->registry_fd_);
      !s.ok())
    return s;
  return n;
}

Namespace::~Namespace() {
  if (registry_fd_ >= 0) ::close(registry_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

void Namespace::RepairLocked() {
  RegistryLayout* r = registry_.layout();
  bool repaired = false;
  for (ViewEntry& e : r->views) {
    const std::uint64_t seq = LoadRelaxed(e.seq);
    if ((seq & 1) == 0) continue;
    // Its writer died mid-update: the fields are a mix. Drop the entry (its file stays on disk,
    // reported by nothing; a later AddView of the same version replaces it).
    StoreRelaxed(e.state, static_cast<std::uint32_t>(EntryState::kFree));
    const std::uint64_t g = LoadRelaxed(e.generation);
    StoreRelease(e.generation, MakeGenerationWord(WordIncarnation(g) + 1, 0));
    StoreRelease(e.seq, seq + 1);
    repaired = true;
  }
  for (AliasEntry& e : r->aliases) {
    const std::uint64_t seq = LoadRelaxed(e.seq);
    if ((seq & 1) == 0) continue;
    // The alias word itself is always whole (one store); only previous or the time may be torn.
    StoreRelaxed(e.previous, 0);
    StoreRelease(e.seq, seq + 1);
    repaired = true;
  }
  if (repaired) BumpChanges(r);
}

std::vector<ViewListing> Namespace::List() const {
  std::map<std::string, ViewListing> by_name;
  for (const detail::AliasRecord& a : registry_.Aliases()) {
    ViewListing& l = by_name[a.name];
    l.name = a.name;
    l.current = a.version();
    l.previous = a.previous;
    l.alias_epoch = a.epoch();
    l.flipped_unix_ns = a.flipped_unix_ns;
  }
  for (const detail::ViewRecord& v : registry_.Views()) {
    ViewListing& l = by_name[v.name];
    l.name = v.name;
    auto it = std::find_if(l.versions.begin(), l.versions.end(),
                           [&](const VersionListing& x) { return x.version == v.version; });
    if (it == l.versions.end()) {
      l.versions.push_back(VersionListing{v.version, v.generation(), v.shard_count, 0, v.kind,
                                          v.created_unix_ns, false, false});
      it = l.versions.end() - 1;
    }
    ++it->shards_present;
    if (v.shard == 0) it->generation = v.generation();
  }
  std::vector<ViewListing> out;
  for (auto& [name, l] : by_name) {
    std::sort(
        l.versions.begin(), l.versions.end(),
        [](const VersionListing& a, const VersionListing& b) { return a.version < b.version; });
    for (VersionListing& v : l.versions) {
      v.current = v.version == l.current;
      v.previous = v.version == l.previous;
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<ViewListing> Namespace::Describe(std::string_view name) const {
  if (!detail::ValidName(name)) return detail::BadName(name);
  for (ViewListing& l : List()) {
    if (l.name == name) return std::move(l);
  }
  return Status::Error(StatusCode::kNotFound, std::string(name) + ": no such view in " + path_);
}

Status Namespace::AddView(std::string_view name, std::uint32_t version, ViewKind kind,
                          std::uint32_t generation, std::uint32_t shard,
                          std::uint32_t shard_count) {
  if (!detail::ValidName(name)) return detail::BadName(name);
  if (version == 0) return Status::Error(StatusCode::kInvalidArgument, "view versions start at 1");
  const std::string ref = std::string(name) + "@" + std::to_string(version);
  if (shard_count == 0 || shard_count > kMaxShards || (shard_count & (shard_count - 1)) != 0 ||
      shard >= shard_count)
    return Status::Error(
        StatusCode::kInvalidArgument,
        ref + ": shard " + std::to_string(shard) + " of " + std::to_string(shard_count) +
            " (shard counts are powers of two up to " + std::to_string(kMaxShards) + ")");
  Lock lock(this);
  RegistryLayout* r = registry_.layout();
  for (const detail::ViewRecord& v : registry_.Views()) {
    if (v.name != name || v.version != version) continue;
    if (v.shard == shard)
      return Status::Error(StatusCode::kAlreadyExists,
                           ref + (shard_count > 1 ? " shard " + std::to_string(shard) : "") +
                               ": already exists in " + path_);
    if (v.shard_count != shard_count || v.kind != kind)
      return Status::Error(StatusCode::kInvalidArgument, ref + ": its other shards are " +
                                                             std::to_string(v.shard_count) + " " +
                                                             ViewKindName(v.kind) + " shards");
  }
  auto alias = registry_.FindAlias(name);
  if (!alias.ok() && alias.status().code() != StatusCode::kNotFound) return alias.status();
  int free_alias = -1;
  if (!alias.ok()) {
    for (std::uint32_t i = 0; i < kRegistryAliases && free_alias < 0; ++i) {
      if (LoadRelaxed(r->aliases[i].state) == static_cast<std::uint32_t>(EntryState::kFree))
        free_alias = static_cast<int>(i);
    }
    if (free_alias < 0)
      return Status::Error(StatusCode::kResourceExhausted, path_ + ": the registry holds " +
                                                               std::to_string(kRegistryAliases) +
                                                               " view names at most");
  }
  for (ViewEntry& e : r->views) {
    if (LoadRelaxed(e.state) != static_cast<std::uint32_t>(EntryState::kFree)) continue;
    const std::uint32_t incarnation = WordIncarnation(LoadRelaxed(e.generation)) + 1;
    {
      EntryWrite w(e.seq);
      StoreRelaxed(e.kind, static_cast<std::uint32_t>(kind));
      StoreRelaxed(e.version, version);
      std::atomic_ref<std::uint16_t>(e.shard).store(static_cast<std::uint16_t>(shard),
                                                    std::memory_order_relaxed);
      std::atomic_ref<std::uint16_t>(e.shard_count)
          .store(static_cast<std::uint16_t>(shard_count), std::memory_order_relaxed);
      StoreRelaxed(e.created_unix_ns, detail::UnixNs());
      StoreName(e.name, name);
      StoreRelaxed(e.state, static_cast<std::uint32_t>(EntryState::kLive));
      StoreRelease(e.generation, MakeGenerationWord(incarnation, generation));
    }
    if (free_alias >= 0) {
      AliasEntry& a = r->aliases[free_alias];
      const std::uint32_t epoch = AliasEpoch(LoadRelaxed(a.current)) + 1;
      EntryWrite w(a.seq);
      StoreRelaxed(a.previous, 0);
      StoreRelaxed(a.flipped_unix_ns, detail::UnixNs());
      StoreName(a.name, name);
      StoreRelaxed(a.state, static_cast<std::uint32_t>(EntryState::kLive));
      StoreRelease(a.current, MakeAliasWord(epoch, version));
    }
    BumpChanges(r);
    return Status::Ok();
  }
  return Status::Error(StatusCode::kResourceExhausted, path_ + ": the registry holds " +
                                                           std::to_string(kRegistryViews) +
                                                           " view versions at most; retire some");
}

Status Namespace::PublishGeneration(std::string_view name, std::uint32_t version,
                                    std::uint32_t generation, std::uint32_t shard) {
  Lock lock(this);
  auto view = registry_.FindView(name, version, shard);
  if (!view.ok()) return view.status();
  ViewEntry& e = registry_.layout()->views[view->index];
  {
    EntryWrite w(e.seq);
    // release: the new file was complete before readers can learn its generation.
    StoreRelease(e.generation,
                 MakeGenerationWord(WordIncarnation(view->generation_word), generation));
  }
  BumpChanges(registry_.layout());
  return Status::Ok();
}

Status Namespace::Flip(std::string_view name, std::uint32_t version) {
  if (!detail::ValidName(name)) return detail::BadName(name);
  Lock lock(this);
  if (auto v = registry_.FindShards(name, version); !v.ok()) return v.status();
  auto alias = registry_.FindAlias(name);
  if (!alias.ok()) return alias.status();
  if (alias->version() == version) return Status::Ok();
  AliasEntry& a = registry_.layout()->aliases[alias->index];
  {
    EntryWrite w(a.seq);
    StoreRelaxed(a.previous, alias->version());
    StoreRelaxed(a.flipped_unix_ns, detail::UnixNs());
    // The flip: one atomic store. release: pairs with readers' acquire of the alias word.
    StoreRelease(a.current, MakeAliasWord(alias->epoch() + 1, version));
  }
  BumpChanges(registry_.layout());
  return Status::Ok();
}

Status Namespace::Revert(std::string_view name) {
  if (!detail::ValidName(name)) return detail::BadName(name);
  Lock lock(this);
  auto alias = registry_.FindAlias(name);
  if (!alias.ok()) return alias.status();
  if (alias->previous == 0)
    return Status::Error(StatusCode::kFailedPrecondition,
                         std::string(name) + ": no previous version to revert to");
  if (auto v = registry_.FindShards(name, alias->previous); !v.ok()) return v.status();
  AliasEntry& a = registry_.layout()->aliases[alias->index];
  {
    EntryWrite w(a.seq);
    StoreRelaxed(a.previous, alias->version());
    StoreRelaxed(a.flipped_unix_ns, detail::UnixNs());
    StoreRelease(a.current, MakeAliasWord(alias->epoch() + 1, alias->previous));
  }
  BumpChanges(registry_.layout());
  return Status::Ok();
}

Status Namespace::Retire(std::string_view name, std::uint32_t version) {
  if (!detail::ValidName(name)) return detail::BadName(name);
  Lock lock(this);
  std::vector<detail::ViewRecord> shards;
  for (detail::ViewRecord& v : registry_.Views()) {
    if (v.name == name && v.version == version) shards.push_back(std::move(v));
  }
  const std::string ref = std::string(name) + "@" + std::to_string(version);
  if (shards.empty())
    return Status::Error(StatusCode::kNotFound, ref + ": no such view in " + path_);
  auto alias = registry_.FindAlias(name);
  if (alias.ok() && alias->version() == version)
    return Status::Error(StatusCode::kFailedPrecondition,
                         ref + ": is current; flip to another version first");
  if (alias.ok() && alias->previous == version) {  // the revert target: nothing to revert to now
    AliasEntry& a = registry_.layout()->aliases[alias->index];
    EntryWrite w(a.seq);
    StoreRelaxed(a.previous, 0u);
  }
  for (const detail::ViewRecord& v : shards) FreeEntryLocked(v);
  BumpChanges(registry_.layout());
  return Status::Ok();
}

void Namespace::FreeEntryLocked(const detail::ViewRecord& v) {
  ViewEntry& e = registry_.layout()->views[v.index];
  {
    EntryWrite w(e.seq);
    StoreRelaxed(e.state, static_cast<std::uint32_t>(EntryState::kFree));
    // A new incarnation: readers on this version notice on their next read.
    StoreRelease(e.generation, MakeGenerationWord(WordIncarnation(v.generation_word) + 1, 0));
  }
  // Remove the files of every generation (an interrupted growth may have left one).
  for (std::uint32_t g = 0; g <= v.generation() + 1; ++g)
    ::unlinkat(dir_fd_, detail::ViewFileName(v.name, v.version, g, v.shard, v.shard_count).c_str(),
               0);
}

namespace {

// (name, version, shard, generation) from a view file name
// "<name>@<version>[#<shard>].<generation>.view".
bool ParseViewFileName(std::string_view file, std::string* name, std::uint32_t* version,
                       std::uint32_t* shard, std::uint32_t* generation) {
  constexpr std::string_view kSuffix = ".view";
  if (file.size() <= kSuffix.size() || file.substr(file.size() - kSuffix.size()) != kSuffix)
    return false;
  file.remove_suffix(kSuffix.size());
  const std::size_t at = file.rfind('@');
  const std::size_t dot = file.rfind('.');
  if (at == std::string_view::npos || dot == std::string_view::npos || dot < at) return false;
  *name = std::string(file.substr(0, at));
  std::string_view numbers = file.substr(at + 1, dot - at - 1);
  *shard = 0;
  if (const std::size_t hash = numbers.find('#'); hash != std::string_view::npos) {
    const std::string_view s = numbers.substr(hash + 1);
    if (std::from_chars(s.data(), s.data() + s.size(), *shard).ptr != s.data() + s.size())
      return false;
    numbers = numbers.substr(0, hash);
  }
  const std::string_view g = file.substr(dot + 1);
  return std::from_chars(numbers.data(), numbers.data() + numbers.size(), *version).ptr ==
             numbers.data() + numbers.size() &&
         std::from_chars(g.data(), g.data() + g.size(), *generation).ptr == g.data() + g.size() &&
         detail::ValidName(*name);
}

}  // namespace

Result<OrphanSweep> Namespace::RemoveOrphans(std::chrono::nanoseconds min_age) {
  Lock lock(this);  // no registration happens meanwhile
  std::set<std::tuple<std::string, std::uint32_t, std::uint32_t, std::uint32_t>> registered;
  for (const detail::ViewRecord& v : registry_.Views())
    registered.emplace(v.name, v.version, v.shard, v.generation());
  const int fd = ::openat(dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Status::Error(StatusCode::kIoError, path_ + ": cannot list: " + std::strerror(errno));
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Status::Error(StatusCode::kIoError, path_ + ": cannot list: " + std::strerror(errno));
  }
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t now_ns = now.tv_sec * 1'000'000'000LL + now.tv_nsec;
  OrphanSweep sweep;
  while (const dirent* e = ::readdir(dir)) {
    std::string name;
    std::uint32_t version, shard, generation;
    if (!ParseViewFileName(e->d_name, &name, &version, &shard, &generation)) continue;
    if (registered.count({name, version, shard, generation}) > 0) continue;
    const int file = ::openat(dir_fd_, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (file < 0) continue;
    struct stat st;
    const bool old_enough =
        ::fstat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
        now_ns - (st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec) >= min_age.count();
    // A writer holds its files locked for as long as it lives: a free lock means nobody will
    // register this one. The name must still be that file (a writer may have taken the
    // orphan's place meanwhile: ViewFile::Create removes an unlocked leftover and makes its own).
    struct stat now_named;
    if (old_enough && ::flock(file, LOCK_EX | LOCK_NB) == 0 &&
        ::fstatat(dir_fd_, e->d_name, &now_named, AT_SYMLINK_NOFOLLOW) == 0 &&
        now_named.st_ino == st.st_ino && now_named.st_dev == st.st_dev &&
        ::unlinkat(dir_fd_, e->d_name, 0) == 0) {
      ++sweep.files;
      sweep.bytes += static_cast<std::uint64_t>(st.st_size);
    }
    ::close(file);
  }
  ::closedir(dir);
  return sweep;
}

Status Namespace::Drop(std::string_view name) {
  if (!detail::ValidName(name)) return detail::BadName(name);
  Lock lock(this);
  RegistryLayout* r = registry_.layout();
  bool found = false;
  for (const detail::ViewRecord& v : registry_.Views()) {
    if (v.name != name) continue;
    found = true;
    FreeEntryLocked(v);
  }
  if (auto alias = registry_.FindAlias(name); alias.ok()) {
    found = true;
    AliasEntry& a = r->aliases[alias->index];
    EntryWrite w(a.seq);
    StoreRelaxed(a.state, static_cast<std::uint32_t>(EntryState::kFree));
    StoreRelaxed(a.previous, 0);
    StoreRelease(a.current, MakeAliasWord(alias->epoch() + 1, 0));
  }
  if (!found)
    return Status::Error(StatusCode::kNotFound, std::string(name) + ": no such view in " + path_);
  BumpChanges(r);
  return Status::Ok();
}

}  // namespace kappa::serving
