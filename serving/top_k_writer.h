// TopKWriter: a view of the K best rows by one field, published whole (serving/view_writer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "serving/detail/keys.h"
#include "serving/detail/view_file.h"
#include "serving/format.h"
#include "serving/namespace.h"
#include "serving/schema.h"
#include "serving/status.h"
#include "serving/write_result.h"

namespace kappa::serving {

struct TopKOptions {
  KeyType key_type = KeyType::kU64;
  std::uint32_t key_size = 8;
  std::string key_name = "key";
  Schema schema;
  std::uint32_t k = 10;
  std::string order_field;  // a numeric field of the schema
  bool descending = true;   // largest first
};

class TopKWriter {
 public:
  static Result<std::unique_ptr<TopKWriter>> Create(Namespace& ns, std::string_view name,
                                                    std::uint32_t version,
                                                    const TopKOptions& options);
  // Becomes the writer of an existing version, starting from the list readers see.
  static Result<std::unique_ptr<TopKWriter>> Open(Namespace& ns, std::string_view name,
                                                  std::uint32_t version);
  ~TopKWriter();

  const Schema& schema() const { return file_->shape().schema; }
  std::uint32_t k() const { return static_cast<std::uint32_t>(file_->shape().capacity); }
  std::size_t staged() const { return rows_.size(); }

  // Sets key's row (a new row, or a new value for it). Rows outside the K best are dropped at
  // the next Publish.
  WriteResult Offer(std::uint64_t key, std::span<const std::byte> value, std::uint64_t offset);
  WriteResult Offer(std::string_view key, std::span<const std::byte> value, std::uint64_t offset);
  bool Remove(std::uint64_t key);
  bool Remove(std::string_view key);
  // Writes the K best rows, sorted, to the buffer readers are not reading, then points readers
  // at it with one release store: readers see whole lists only.
  void Publish();
  // Whether `key` has a row here (after a Publish: among the K best), and its order value.
  bool Holds(std::uint64_t key, double* order) const {
    if (file_->shape().key_type != KeyType::kU64) return false;
    auto it = index_.find(KeyString(detail::U64Key(key)));
    if (it == index_.end()) return false;
    *order = rows_[it->second].order;
    return true;
  }

  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns = 0) {
    file_->SetProgress(applied_offset, watermark_ns);
  }
  void Heartbeat() { file_->Heartbeat(); }

 private:
  struct Row {
    detail::KeyRef key;
    std::uint64_t offset = 0;
    double order = 0;
    std::vector<std::byte> value;
  };
  explicit TopKWriter(std::unique_ptr<detail::ViewFile> f) : file_(std::move(f)) {}
  WriteResult Stage(const detail::KeyRef& k, std::span<const std::byte> value,
                    std::uint64_t offset);
  bool Unstage(const detail::KeyRef& k);
  void LoadPublished();
  static std::string KeyString(const detail::KeyRef& k) {
    return std::string(reinterpret_cast<const char*>(k.words), k.len);
  }

  std::unique_ptr<detail::ViewFile> file_;
  std::vector<Row> rows_;
  std::unordered_map<std::string, std::size_t> index_;  // key bytes -> rows_ index
};

}  // namespace kappa::serving
