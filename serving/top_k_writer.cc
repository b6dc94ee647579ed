#include "serving/top_k_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "serving/detail/clock.h"
#include "serving/detail/mapped_words.h"
#include "serving/detail/names.h"
#include "serving/detail/new_shape.h"
#include "serving/detail/slot_table.h"

namespace kappa::serving {

using detail::BaseShape;
using detail::InvalidView;
using detail::KeyRef;
using detail::LoadRelaxed;
using detail::SlotTable;
using detail::StoreRelaxed;
using detail::StoreRelease;
using detail::ViewFile;
using detail::ViewShape;

Result<std::unique_ptr<TopKWriter>> TopKWriter::Create(Namespace& ns, std::string_view name,
                                                       std::uint32_t version,
                                                       const TopKOptions& o) {
  auto shape =
      BaseShape(name, version, ViewKind::kTopK, o.key_type, o.key_size, o.key_name, o.schema);
  if (!shape.ok()) return shape.status();
  if (o.k == 0 || o.k > kMaxTopK)
    return InvalidView(name, "K must be 1 to " + std::to_string(kMaxTopK));
  const int field = o.schema.Find(o.order_field);
  if (field < 0) return InvalidView(name, "no field '" + o.order_field + "' to order by");
  if (o.schema.field(static_cast<std::size_t>(field)).type == FieldType::kString)
    return InvalidView(name, "order field '" + o.order_field + "' must be numeric");
  shape->capacity = o.k;
  shape->order_field = static_cast<std::uint32_t>(field);
  shape->order_descending = o.descending;
  shape->slot_size = TopKRowSize(shape->key_size, shape->value_size);
  shape->topk_buffer_size = TopKBufferSize(o.k, shape->slot_size);
  auto file = ViewFile::Create(ns, *shape);
  if (!file.ok()) return file.status();
  if (Status s = ns.AddView(name, version, ViewKind::kTopK, 0); !s.ok()) {
    ::unlinkat(ns.dir_fd(), detail::ViewFileName(name, version, 0).c_str(), 0);
    return s;
  }
  return std::unique_ptr<TopKWriter>(new TopKWriter(std::move(file).value()));
}

Result<std::unique_ptr<TopKWriter>> TopKWriter::Open(Namespace& ns, std::string_view name,
                                                     std::uint32_t version) {
  auto file = ViewFile::Attach(ns, name, version);
  if (!file.ok()) return file.status();
  if ((*file)->shape().kind != ViewKind::kTopK)
    return Status::Error(StatusCode::kInvalidArgument, (*file)->path() + ": is not a top-K view");
  std::unique_ptr<TopKWriter> w(new TopKWriter(std::move(file).value()));
  w->LoadPublished();
  return w;
}

TopKWriter::~TopKWriter() = default;

void TopKWriter::LoadPublished() {
  const ViewShape& s = file_->shape();
  ViewHeader* h = file_->header();
  const std::uint64_t active = LoadRelaxed(h->list.active) & 1;
  // The buffer readers do not read may have been left mid-write: make its seq even again.
  auto* idle = reinterpret_cast<std::uint64_t*>(file_->slots() + (active ^ 1) * s.topk_buffer_size);
  if (LoadRelaxed(idle[0]) & 1) {
    StoreRelease(idle[0], LoadRelaxed(idle[0]) + 1);
    ViewFile::Add(h->counters.repaired, 1);
  }
  const std::byte* buf = file_->slots() + active * s.topk_buffer_size;
  const std::uint64_t n = std::min<std::uint64_t>(
      LoadRelaxed(reinterpret_cast<const std::uint64_t*>(buf)[1]), s.capacity);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::byte* r = buf + kTopKBufferHeader + i * s.slot_size;
    Row row;
    const auto* words = reinterpret_cast<const std::uint64_t*>(r);
    row.offset = LoadRelaxed(words[0]);
    row.key.len =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(LoadRelaxed(words[1]), s.key_size));
    detail::CopyFromShared(row.key.words, r + kTopKRowHeader, Align8(s.key_size));
    row.value.resize(s.value_size);
    detail::CopyFromShared(row.value.data(), r + kTopKRowHeader + Align8(s.key_size), s.value_size);
    row.order = s.schema.GetNumber(row.value, s.order_field);
    index_[KeyString(row.key)] = rows_.size();
    rows_.push_back(std::move(row));
  }
}

WriteResult TopKWriter::Stage(const KeyRef& k, std::span<const std::byte> value,
                              std::uint64_t offset) {
  const ViewShape& s = file_->shape();
  if (value.size() != s.value_size) return WriteResult::kBadArgument;
  const std::string key = KeyString(k);
  auto it = index_.find(key);
  Row* row;
  if (it == index_.end()) {
    index_.emplace(key, rows_.size());
    rows_.emplace_back();
    row = &rows_.back();
    row->key = k;
  } else {
    row = &rows_[it->second];
  }
  row->offset = offset;
  row->value.assign(value.begin(), value.end());
  row->order = s.schema.GetNumber(value, s.order_field);
  return WriteResult::kOk;
}

WriteResult TopKWriter::Offer(std::uint64_t key, std::span<const std::byte> value,
                              std::uint64_t offset) {
  if (file_->shape().key_type != KeyType::kU64) return WriteResult::kWrongKey;
  return Stage(detail::U64Key(key), value, offset);
}
WriteResult TopKWriter::Offer(std::string_view key, std::span<const std::byte> value,
                              std::uint64_t offset) {
  if (file_->shape().key_type != KeyType::kBytes) return WriteResult::kWrongKey;
  KeyRef k;
  if (!detail::BytesKey(key, file_->shape().key_size, &k)) return WriteResult::kBadArgument;
  return Stage(k, value, offset);
}

bool TopKWriter::Unstage(const KeyRef& k) {
  auto it = index_.find(KeyString(k));
  if (it == index_.end()) return false;
  const std::size_t i = it->second;
  index_.erase(it);
  if (i != rows_.size() - 1) {
    rows_[i] = std::move(rows_.back());
    index_[KeyString(rows_[i].key)] = i;
  }
  rows_.pop_back();
  return true;
}
bool TopKWriter::Remove(std::uint64_t key) {
  return file_->shape().key_type == KeyType::kU64 && Unstage(detail::U64Key(key));
}
bool TopKWriter::Remove(std::string_view key) {
  KeyRef k;
  return file_->shape().key_type == KeyType::kBytes &&
         detail::BytesKey(key, file_->shape().key_size, &k) && Unstage(k);
}

void TopKWriter::Publish() {
  const ViewShape& s = file_->shape();
  // NaN sorts last either way; ties go by key, so equal inputs publish equal lists.
  const double worst = s.order_descending ? -std::numeric_limits<double>::infinity()
                                          : std::numeric_limits<double>::infinity();
  auto order = [&](const Row& r) { return std::isnan(r.order) ? worst : r.order; };
  auto better = [&](const Row& a, const Row& b) {
    const double x = order(a), y = order(b);
    if (x != y) return s.order_descending ? x > y : x < y;
    return std::lexicographical_compare(
        reinterpret_cast<const unsigned char*>(a.key.words),
        reinterpret_cast<const unsigned char*>(a.key.words) + a.key.len,
        reinterpret_cast<const unsigned char*>(b.key.words),
        reinterpret_cast<const unsigned char*>(b.key.words) + b.key.len);
  };
  std::sort(rows_.begin(), rows_.end(), better);
  if (rows_.size() > s.capacity) rows_.resize(s.capacity);
  index_.clear();
  for (std::size_t i = 0; i < rows_.size(); ++i) index_[KeyString(rows_[i].key)] = i;

  ViewHeader* h = file_->header();
  const std::uint64_t target = (LoadRelaxed(h->list.active) & 1) ^ 1;
  std::byte* buf = file_->slots() + target * s.topk_buffer_size;
  auto* words = reinterpret_cast<std::uint64_t*>(buf);
  const std::uint64_t seq = SlotTable::BeginWrite(words);
  StoreRelaxed(words[1], rows_.size());
  StoreRelaxed(words[2], static_cast<std::uint64_t>(detail::UnixNs()));
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    std::byte* r = buf + kTopKBufferHeader + i * s.slot_size;
    auto* rw = reinterpret_cast<std::uint64_t*>(r);
    StoreRelaxed(rw[0], rows_[i].offset);
    StoreRelaxed(rw[1], rows_[i].key.len);
    detail::CopyToShared(r + kTopKRowHeader, rows_[i].key.words, Align8(s.key_size));
    detail::CopyToShared(r + kTopKRowHeader + Align8(s.key_size), rows_[i].value.data(),
                         s.value_size);
  }
  SlotTable::EndWrite(words, seq);
  // release: readers that acquire `active` find the buffer complete.
  StoreRelease(h->list.active, target);
  ViewFile::Add(h->counters.publishes, 1);
  ViewFile::Add(h->counters.updates, 1);
  StoreRelaxed(h->counters.entries, rows_.size());
}

}  // namespace kappa::serving
