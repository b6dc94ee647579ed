// ViewFile: a view file held by its (one) writer: created or attached, mapped read-write and
// locked with an exclusive flock, which the kernel releases if the writer dies.
//
// Thread safety: one thread at a time (the writer's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "serving/detail/clock.h"
#include "serving/detail/mapped_file.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/view_shape.h"
#include "serving/format.h"
#include "serving/status.h"

namespace kappa::serving {
class Namespace;
}

namespace kappa::serving::detail {

class ViewFile {
 public:
  // Creates the file of (shape.name, shape.view_version, shape.generation), initialized and
  // locked. It is not registered: the caller fills it and then registers or publishes it.
  static Result<std::unique_ptr<ViewFile>> Create(Namespace& ns, const ViewShape& shape);
  // Attaches to the current generation of shard `shard` of (name, version) as its writer. kBusy
  // if another writer holds it.
  static Result<std::unique_ptr<ViewFile>> Attach(Namespace& ns, std::string_view name,
                                                  std::uint32_t version, std::uint32_t shard = 0);

  // Detaches: the writer line says nobody writes (unless superseded), the lock goes.
  ~ViewFile();
  ViewFile(const ViewFile&) = delete;
  ViewFile& operator=(const ViewFile&) = delete;

  ViewHeader* header() const { return reinterpret_cast<ViewHeader*>(map_.data()); }
  std::byte* slots() const { return map_.data() + shape_.slots_offset; }
  const ViewShape& shape() const { return shape_; }
  const std::string& path() const { return path_; }
  Namespace& ns() const { return *ns_; }

  void Heartbeat() { StoreRelaxed(header()->writer.heartbeat_unix_ns, UnixNs()); }
  // release: what the writer applied up to `offset` is visible to readers that acquire it.
  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns) {
    StoreRelaxed(header()->progress.watermark_ns, watermark_ns);
    StoreRelease(header()->progress.applied_offset, applied_offset);
    Heartbeat();
  }
  // Counters: the writer is the only one to change them, so a relaxed load and store suffice.
  static void Add(std::uint64_t& counter, std::int64_t delta) {
    StoreRelaxed(counter, LoadRelaxed(counter) + static_cast<std::uint64_t>(delta));
  }
  // Copies progress, counters and the writer epoch from the generation this one replaces.
  void InheritFrom(const ViewFile& old);
  // Marks this file as replaced by a newer generation and removes its name; readers still on
  // it keep their mapping until they follow the registry.
  void Supersede();

 private:
  ViewFile() = default;
  void AttachWriter(std::uint64_t epoch);

  Namespace* ns_ = nullptr;
  std::string file_;
  std::string path_;
  int fd_ = -1;
  Mapping map_;
  ViewShape shape_;
  bool superseded_ = false;
};

// Fills a view descriptor from a shape (the writer's side of ValidateDescriptor).
ViewDescriptor MakeDescriptor(const ViewShape& shape);

}  // namespace kappa::serving::detail
