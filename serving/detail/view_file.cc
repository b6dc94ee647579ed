#include "serving/detail/view_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>

#include "serving/detail/liveness.h"
#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/namespace.h"

namespace kappa::serving::detail {

ViewDescriptor MakeDescriptor(const ViewShape& s) {
  ViewDescriptor d{};
  std::memcpy(d.magic, kViewMagic, sizeof d.magic);
  d.version = kFormatVersion;
  d.header_size = kViewHeaderSize;
  d.file_size = ViewFileSize(s);
  d.kind = static_cast<std::uint32_t>(s.kind);
  d.key_type = static_cast<std::uint32_t>(s.key_type);
  d.key_size = s.key_size;
  d.value_size = s.value_size;
  d.slot_size = s.slot_size;
  d.field_count = static_cast<std::uint32_t>(s.schema.size());
  d.capacity = s.capacity;
  d.slots_offset = s.slots_offset;
  d.hash_seed = s.hash_seed;
  d.window_size_ns = s.window_size_ns;
  d.window_slide_ns = s.window_slide_ns;
  d.retention_ns = s.retention_ns;
  d.windows_per_key = s.windows_per_key;
  d.order_field = s.order_field;
  d.order_descending = s.order_descending ? 1 : 0;
  d.view_version = s.view_version;
  d.generation = s.generation;
  d.shard = static_cast<std::uint16_t>(s.shard);
  d.shard_count = static_cast<std::uint16_t>(s.shard_count);
  d.created_unix_ns = s.created_unix_ns;
  std::memcpy(d.name, s.name.data(), std::min<std::size_t>(s.name.size(), sizeof d.name - 1));
  std::memcpy(d.key_name, s.key_name.data(),
              std::min<std::size_t>(s.key_name.size(), sizeof d.key_name - 1));
  for (std::size_t i = 0; i < s.schema.size(); ++i) {
    const Field& f = s.schema.field(i);
    FieldDesc& fd = d.fields[i];
    std::memcpy(fd.name, f.name.data(), std::min<std::size_t>(f.name.size(), sizeof fd.name - 1));
    fd.type = static_cast<std::uint8_t>(f.type);
    fd.size = f.size;
    fd.offset = f.offset;
  }
  d.checksum = DescriptorChecksum(d);
  return d;
}

Result<std::unique_ptr<ViewFile>> ViewFile::Create(Namespace& ns, const ViewShape& shape) {
  std::unique_ptr<ViewFile> f(new ViewFile());
  f->ns_ = &ns;
  f->shape_ = shape;
  f->file_ = ViewFileName(shape.name, shape.view_version, shape.generation, shape.shard,
                          shape.shard_count);
  f->path_ = ns.path() + "/" + f->file_;
  const std::uint64_t size = ViewFileSize(shape);
  if (size == 0)
    return Status::Error(StatusCode::kInvalidArgument, f->path_ + ": view too large (over 1 TiB)");
  int fd = -1;
  for (int attempt = 0; attempt < 2; ++attempt) {
    fd = ::openat(ns.dir_fd(), f->file_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
    if (fd >= 0 || errno != EEXIST || attempt > 0) break;
    // A file of this name the registry does not point at was left by a writer that died
    // between creating and publishing it: take its place (under its lock, if nobody holds it).
    auto existing = ns.registry().FindView(shape.name, shape.view_version, shape.shard);
    if (existing.ok() && existing->generation() == shape.generation)
      return Status::Error(StatusCode::kAlreadyExists, f->path_ + ": already exists");
    const int old = ::openat(ns.dir_fd(), f->file_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (old >= 0) {
      const bool free = ::flock(old, LOCK_EX | LOCK_NB) == 0;
      if (free) ::unlinkat(ns.dir_fd(), f->file_.c_str(), 0);
      ::close(old);
      if (!free)
        return Status::Error(StatusCode::kBusy, f->path_ + ": another writer is creating it");
    }
  }
  if (fd < 0) return ErrnoStatus(f->path_, "cannot create", errno);
  f->fd_ = fd;
  auto fail = [&](Status s) {
    ::unlinkat(ns.dir_fd(), f->file_.c_str(), 0);
    return s;
  };
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return fail(ErrnoStatus(f->path_, "cannot lock", errno));
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0)
    return fail(ErrnoStatus(f->path_, "cannot allocate " + std::to_string(size) + " bytes", err));
  // Populated: the pages are allocated already, and the writer's first touch of each would
  // otherwise stall an update with a page fault.
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED) return fail(ErrnoStatus(f->path_, "cannot map", errno));
  f->map_ = Mapping(map, size);
  const ViewDescriptor d = MakeDescriptor(shape);
  CopyToShared(f->map_.data(), &d, sizeof d);
  f->AttachWriter(1);
  return f;
}

Result<std::unique_ptr<ViewFile>> ViewFile::Attach(Namespace& ns, std::string_view name,
                                                   std::uint32_t version, std::uint32_t shard) {
  for (int attempt = 0;; ++attempt) {
    auto view = ns.registry().FindView(name, version, shard);
    if (!view.ok()) return view.status();
    std::unique_ptr<ViewFile> f(new ViewFile());
    f->ns_ = &ns;
    f->file_ = ViewFileName(name, version, view->generation(), view->shard, view->shard_count);
    f->path_ = ns.path() + "/" + f->file_;
    Status s =
        MapView(ns.dir_fd(), f->file_, f->path_, /*writable=*/true, &f->map_, &f->shape_, &f->fd_);
    if (s.code() == StatusCode::kNotFound && attempt < 100) continue;  // it just grew
    if (!s.ok()) return s;
    if (::flock(f->fd_, LOCK_EX | LOCK_NB) != 0) {
      const std::uint64_t pid = LoadRelaxed(f->header()->writer.pid);
      return Status::Error(StatusCode::kBusy,
                           f->path_ + ": has a writer already (pid " + std::to_string(pid) + ")");
    }
    // The lock is ours; is this still the current generation?
    auto again = ns.registry().FindView(name, version, shard);
    if (!again.ok()) return again.status();
    if (again->generation_word != view->generation_word) continue;
    if (f->shape_.name != name || f->shape_.view_version != version || f->shape_.shard != shard)
      return Status::Error(StatusCode::kCorrupt, f->path_ + ": header names another view");
    f->AttachWriter(LoadRelaxed(f->header()->writer.epoch) + 1);
    return f;
  }
}

void ViewFile::AttachWriter(std::uint64_t epoch) {
  WriterLine& w = header()->writer;
  const auto pid = static_cast<std::uint64_t>(::getpid());
  StoreRelaxed(w.pid_start_ticks, ProcessStartTicks(pid));
  StoreRelaxed(w.epoch, epoch);
  StoreRelaxed(w.state, static_cast<std::uint64_t>(WriterState::kLive));
  Heartbeat();
  StoreRelease(w.pid, pid);
}

void ViewFile::InheritFrom(const ViewFile& old) {
  const ViewHeader* o = old.header();
  ViewHeader* h = header();
  StoreRelaxed(h->writer.epoch, LoadRelaxed(o->writer.epoch));
  StoreRelaxed(h->progress.watermark_ns, LoadRelaxed(o->progress.watermark_ns));
  StoreRelaxed(h->progress.newest_window, LoadRelaxed(o->progress.newest_window));
  StoreRelaxed(h->progress.applied_offset, LoadRelaxed(o->progress.applied_offset));
  StoreRelaxed(h->counters.updates, LoadRelaxed(o->counters.updates));
  StoreRelaxed(h->counters.inserts, LoadRelaxed(o->counters.inserts));
  StoreRelaxed(h->counters.expired, LoadRelaxed(o->counters.expired));
  StoreRelaxed(h->counters.repaired, LoadRelaxed(o->counters.repaired));
  StoreRelaxed(h->counters.publishes, LoadRelaxed(o->counters.publishes));
}

void ViewFile::Supersede() {
  superseded_ = true;
  StoreRelease(header()->writer.state, static_cast<std::uint64_t>(WriterState::kSuperseded));
  ::unlinkat(ns_->dir_fd(), file_.c_str(), 0);
}

ViewFile::~ViewFile() {
  if (map_ && !superseded_) {
    Heartbeat();
    StoreRelease(header()->writer.pid, 0);
  }
  map_.Reset();
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

}  // namespace kappa::serving::detail
