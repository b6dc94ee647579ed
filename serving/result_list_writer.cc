#include "serving/result_list_writer.h"

#include <algorithm>

#include "base/check.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/detail/new_shape.h"
#include "serving/detail/slot_table.h"

namespace kappa::serving {

using detail::BaseShape;
using detail::InvalidView;
using detail::LoadRelaxed;
using detail::SlotTable;
using detail::StoreRelaxed;
using detail::StoreRelease;
using detail::ViewFile;
using detail::ViewShape;

Result<std::unique_ptr<ResultListWriter>> ResultListWriter::Create(Namespace& ns,
                                                                   std::string_view name,
                                                                   std::uint32_t version,
                                                                   const ResultListOptions& o) {
  auto shape = BaseShape(name, version, ViewKind::kList, KeyType::kNone, 0, "", o.schema);
  if (!shape.ok()) return shape.status();
  if (o.capacity == 0 || o.capacity > kMaxListRows)
    return InvalidView(name, "a list retains 1 to " + std::to_string(kMaxListRows) + " rows");
  shape->capacity = o.capacity;
  shape->slot_size = ListRowSize(shape->value_size);
  auto file = ViewFile::Create(ns, *shape);
  if (!file.ok()) return file.status();
  if (Status s = ns.AddView(name, version, ViewKind::kList, 0); !s.ok()) {
    ::unlinkat(ns.dir_fd(), detail::ViewFileName(name, version, 0).c_str(), 0);
    return s;
  }
  return std::unique_ptr<ResultListWriter>(new ResultListWriter(std::move(file).value()));
}

Result<std::unique_ptr<ResultListWriter>> ResultListWriter::Open(Namespace& ns,
                                                                 std::string_view name,
                                                                 std::uint32_t version) {
  auto file = ViewFile::Attach(ns, name, version);
  if (!file.ok()) return file.status();
  if ((*file)->shape().kind != ViewKind::kList)
    return Status::Error(StatusCode::kInvalidArgument, (*file)->path() + ": is not a result list");
  std::unique_ptr<ResultListWriter> w(new ResultListWriter(std::move(file).value()));
  const ViewShape& s = w->file_->shape();
  ViewHeader* h = w->file_->header();
  w->count_ = LoadRelaxed(h->list.count);
  // A row a dead writer left mid-write was never counted: mark it as no row at all.
  std::uint64_t repaired = 0;
  for (std::uint64_t i = 0; i < s.capacity; ++i) {
    auto* row = reinterpret_cast<std::uint64_t*>(w->file_->slots() + i * s.slot_size);
    const std::uint64_t seq = LoadRelaxed(row[0]);
    if ((seq & 1) == 0) continue;
    StoreRelaxed(row[1], UINT64_MAX);
    StoreRelease(row[0], seq + 1);
    ++repaired;
  }
  ViewFile::Add(h->counters.repaired, static_cast<std::int64_t>(repaired));
  return w;
}

WriteResult ResultListWriter::Append(std::span<const std::byte> value, std::uint64_t offset) {
  const ViewShape& s = file_->shape();
  if (value.size() != s.value_size) return WriteResult::kBadArgument;
  std::byte* row = file_->slots() + (count_ % s.capacity) * s.slot_size;
  auto* words = reinterpret_cast<std::uint64_t*>(row);
  const std::uint64_t seq = SlotTable::BeginWrite(words);
  StoreRelaxed(words[1], count_);
  StoreRelaxed(words[2], offset);
  detail::CopyToShared(row + kListRowHeader, value.data(), s.value_size);
  SlotTable::EndWrite(words, seq);
  ++count_;
  ViewHeader* h = file_->header();
  // release: the row is complete before count covers it.
  StoreRelease(h->list.count, count_);
  ViewFile::Add(h->counters.updates, 1);
  ViewFile::Add(h->counters.inserts, 1);
  StoreRelaxed(h->counters.entries, std::min<std::uint64_t>(count_, s.capacity));
  return WriteResult::kOk;
}

void ResultListWriter::RewindTo(std::uint64_t count) {
  KAPPA_DCHECK(count <= count_, "ResultListWriter::RewindTo: past the rows appended");
  if (count >= count_) return;
  count_ = count;
  // Readers that see the lower count stop there; rows past it are replaced one by one later,
  // each under its seqlock and with its own index.
  StoreRelease(file_->header()->list.count, count_);
}

}  // namespace kappa::serving
