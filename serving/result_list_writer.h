// ResultListWriter: a view of the last N rows appended (serving/view_writer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "serving/detail/view_file.h"
#include "serving/format.h"
#include "serving/namespace.h"
#include "serving/schema.h"
#include "serving/status.h"
#include "serving/write_result.h"

namespace kappa::serving {

struct ResultListOptions {
  Schema schema;
  std::uint64_t capacity = 65536;  // rows retained; older rows are overwritten
};

class ResultListWriter {
 public:
  static Result<std::unique_ptr<ResultListWriter>> Create(Namespace& ns, std::string_view name,
                                                          std::uint32_t version,
                                                          const ResultListOptions& options);
  static Result<std::unique_ptr<ResultListWriter>> Open(Namespace& ns, std::string_view name,
                                                        std::uint32_t version);

  const Schema& schema() const { return file_->shape().schema; }
  std::uint64_t count() const { return count_; }
  std::uint64_t capacity() const { return file_->shape().capacity; }

  // Appends one row (value.size() == schema().value_size()); it becomes row count()-1.
  WriteResult Append(std::span<const std::byte> value, std::uint64_t offset);
  // Goes back to `count` rows (a restore): the next Append becomes row `count`. Rows at and
  // past it stay readable until overwritten. REQUIRES: count <= count().
  void RewindTo(std::uint64_t count);

  void SetProgress(std::uint64_t applied_offset, std::int64_t watermark_ns = 0) {
    file_->SetProgress(applied_offset, watermark_ns);
  }
  void Heartbeat() { file_->Heartbeat(); }

 private:
  explicit ResultListWriter(std::unique_ptr<detail::ViewFile> f) : file_(std::move(f)) {}
  std::unique_ptr<detail::ViewFile> file_;
  std::uint64_t count_ = 0;
};

}  // namespace kappa::serving
