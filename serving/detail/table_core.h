// What the keyed and windowed writers share: a view file, its slot table, live and tombstone
// counts, growth into a new file generation, export and restore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "serving/detail/keys.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/slot_table.h"
#include "serving/detail/view_file.h"
#include "serving/namespace.h"
#include "serving/shard.h"
#include "serving/status.h"

namespace kappa::serving::detail {

class TableCore {
 public:
  static Result<std::unique_ptr<TableCore>> Create(Namespace& ns, ViewShape shape);
  static Result<std::unique_ptr<TableCore>> Attach(Namespace& ns, std::string_view name,
                                                   std::uint32_t version, std::uint32_t shard,
                                                   ViewKind kind);

  ViewFile& file() { return *file_; }
  SlotTable& table() { return table_; }
  const SlotTable& table() const { return table_; }

  // Every live slot as bytes (a checkpoint of the table), and the table replaced by such rows
  // (a restore): the rows go to a new file generation that readers switch to at once.
  std::string Export() const;
  Status Replace(std::string_view rows);
  const ViewShape& shape() const { return file_->shape(); }
  std::uint64_t live() const { return live_; }
  // Why the table last failed to grow ("" if it never did).
  const std::string& grow_error() const { return grow_error_; }
  // False if `k` belongs to another shard of a sharded view.
  bool Owns(const KeyRef& k) const {
    return shape().shard_count <= 1 ||
           ShardOf(k, shape().key_type, shape().shard_count) == shape().shard;
  }

  // Makes sure one more entry fits under the load limit, growing the table if needed.
  bool Reserve() {
    if ((live_ + tombstones_ + 1) * 4 <= shape().capacity * 3) [[likely]]
      return true;
    return Grow();
  }
  void Inserted(std::uint64_t idx) {
    if (MetaState(table_.Meta(idx)) == kSlotTombstone) --tombstones_;
    ++live_;
  }
  void Erased() {
    --live_;
    ++tombstones_;
  }
  // Publishes the live and tombstone counts and one more update to the header counters.
  void CountWrite(bool inserted) {
    CounterLine& c = file_->header()->counters;
    ViewFile::Add(c.updates, 1);
    if (inserted) ViewFile::Add(c.inserts, 1);
    StoreRelaxed(c.entries, live_);
    StoreRelaxed(c.tombstones, tombstones_);
  }

 private:
  TableCore() : table_(nullptr) {}
  explicit TableCore(std::unique_ptr<ViewFile> f) : file_(std::move(f)), table_(file_.get()) {}
  bool Grow();
  // Writes a new file generation holding the rows each(emit) emits, and publishes it: readers
  // move from the old contents to the new at once.
  template <class ForEachRow>
  bool Rebuild(std::uint64_t entries, ForEachRow&& each);
  void Recount();

  std::unique_ptr<ViewFile> file_;
  SlotTable table_;
  std::uint64_t live_ = 0;
  std::uint64_t tombstones_ = 0;
  std::string grow_error_;
};

}  // namespace kappa::serving::detail
