// Sinks: where a partition's results go. Operators that produce a stream of result records
// (joins, sessions, the stateless tail of a pipeline) write them through one of these, chosen by
// the pipeline's last call:
//
//   KeyedViewSink     ToView on a keyed result: upsert by key into a keyed view (one shard per
//                     partition)
//   WindowedViewSink  ToView on a windowed result: upsert by (key, window start)
//   ListSink          ToList: append to a result list view (one partition)
//   LogSink           ToLog: append to another log (one partition; at-least-once on restore)
//   EmitSink          the pipeline goes on: the results are the next keyed stage's records
//
// Every sink has the same shape (detail::ResultSink, engine/detail/contracts.h):
//   Status Open(const JobContext&, int partition, bool attach)
//   void Put(const K& key, std::int64_t window_start, std::int64_t time, const Out&,
//            std::uint64_t offset)       each uses what it needs of key, window and time
//   void Prefetch(const K& key, std::int64_t window_start)   a Put of them comes soon:
//                                     start fetching what it touches (a view's slots)
//   void Finish(const SlotBase&, PartitionCounters&)    after each batch: progress, flush
//   void Snapshot(std::string*)  /  Status Restore(std::string_view&)  (consumes its part;
//                                     an empty input resets the sink to nothing written)
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/detail/codec.h"
#include "engine/detail/job_plan.h"
#include "engine/key.h"
#include "engine/options.h"
#include "engine/record.h"
#include "engine/record_catalog.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "operators/batch.h"
#include "operators/bytes.h"
#include "serving/format.h"
#include "serving/namespace.h"
#include "serving/view_writer.h"

namespace kappa::engine {

// Where a job's sinks go.
struct JobContext {
  serving::Namespace* ns = nullptr;
  int partitions = 1;  // a power of two: the shards of each view
  std::uint32_t view_version = 1;
};

namespace detail {

using operators::PutBytes;
using operators::PutValue;
using operators::TakeBytes;
using operators::TakeValue;

// Finishes `sink` at the end of a bounded run: where the partition was, every window closed.
template <class Sink>
void FinishAtEnd(Sink& sink, PartitionCounters& c) {
  SlotBase end;
  end.end_offset = c.applied_offset.load(std::memory_order_relaxed);
  end.watermark = std::numeric_limits<std::int64_t>::max();
  sink.Finish(end, c);
}

// After a batch: the view's progress, and the results written counted.
template <class Writer>
void FinishView(Writer& w, const SlotBase& slot, PartitionCounters& c, std::uint64_t* written) {
  w.SetProgress(slot.end_offset, slot.watermark);
  c.emitted.fetch_add(*written, std::memory_order_relaxed);
  *written = 0;
}

// The first write a view refused during a batch. After the batch, Report fails the partition
// with it, naming the view and the cause (a job never drops a result silently: the job stops
// and takes no checkpoint past the loss).
class WriteCheck {
 public:
  void Note(serving::WriteResult r) {
    if (r != serving::WriteResult::kOk && first_ == serving::WriteResult::kOk) [[unlikely]]
      first_ = r;
  }
  // True if a write was refused (the partition is failed then: the caller must not move the
  // view's progress past the loss).
  template <class Writer>
  bool Report(const Writer& writer, const std::string& view, PartitionCounters& c) {
    if (first_ == serving::WriteResult::kOk) [[likely]]
      return c.failed.load(std::memory_order_relaxed);
    std::string grow_error;
    if constexpr (requires { writer.grow_error(); }) grow_error = writer.grow_error();
    FailPartition(c, "cannot write to view " + view + ": " +
                         serving::DescribeWriteResult(first_, grow_error));
    first_ = serving::WriteResult::kOk;
    return true;
  }

 private:
  serving::WriteResult first_ = serving::WriteResult::kOk;
};

inline serving::Status BadState(const std::string& what) {
  return serving::Status::Error(serving::StatusCode::kCorrupt,
                                what + ": checkpointed state does not fit this job");
}

// Creates shard `p` of view `name` (version and shard count from `ctx`; u64 keys, or bytes keys
// of `key_bytes` bytes when that is not 0); with `attach`, opens it if it exists.
inline serving::Result<std::unique_ptr<serving::KeyedTableWriter>> CreateKeyedShard(
    const JobContext& ctx, const std::string& name, const serving::Schema& schema,
    const ViewSinkOptions& o, std::uint32_t key_bytes, int p, bool attach) {
  serving::KeyedTableOptions ko;
  if (key_bytes > 0) {
    ko.key_type = serving::KeyType::kBytes;
    ko.key_size = key_bytes;
  }
  ko.schema = schema;
  ko.key_name = o.key_name;
  ko.expected_keys = o.expected_keys;
  ko.shards = static_cast<std::uint32_t>(ctx.partitions);
  ko.shard = static_cast<std::uint32_t>(p);
  auto w = serving::KeyedTableWriter::Create(*ctx.ns, name, ctx.view_version, ko);
  if (!w.ok() && attach && w.status().code() == serving::StatusCode::kAlreadyExists)
    return serving::KeyedTableWriter::Open(*ctx.ns, name, ctx.view_version,
                                           static_cast<std::uint32_t>(p));
  return w;
}

inline serving::Result<std::unique_ptr<serving::WindowedTableWriter>> CreateWindowedShard(
    const JobContext& ctx, const std::string& name, const serving::Schema& schema,
    const ViewSinkOptions& o, std::uint32_t key_bytes, std::int64_t size, std::int64_t slide, int p,
    bool attach) {
  serving::WindowedTableOptions wo;
  if (key_bytes > 0) {
    wo.key_type = serving::KeyType::kBytes;
    wo.key_size = key_bytes;
  }
  wo.schema = schema;
  wo.key_name = o.key_name;
  // A key's row holds its window directory; each of its open windows is one more row.
  const std::uint64_t open = slide > 0 ? static_cast<std::uint64_t>(size / slide + 1) : 1;
  const std::uint32_t per_key = o.windows_per_key > 0
                                    ? o.windows_per_key
                                    : static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
                                          open, 8, serving::kMaxWindowsPerKey));
  wo.expected_entries = o.expected_keys * (1 + std::min<std::uint64_t>(per_key, open));
  wo.window_size_ns = size;
  wo.window_slide_ns = slide;
  wo.windows_per_key = per_key;
  wo.retention_ns = o.retention_ns;
  wo.shards = static_cast<std::uint32_t>(ctx.partitions);
  wo.shard = static_cast<std::uint32_t>(p);
  auto w = serving::WindowedTableWriter::Create(*ctx.ns, name, ctx.view_version, wo);
  if (!w.ok() && attach && w.status().code() == serving::StatusCode::kAlreadyExists)
    return serving::WindowedTableWriter::Open(*ctx.ns, name, ctx.view_version,
                                              static_cast<std::uint32_t>(p));
  return w;
}

// A view writer's contents, exported into a checkpoint and put back from one.
template <class Writer>
void SnapshotWriter(const Writer& w, std::string* out) {
  PutBytes(*out, w.Export());
}
template <class Writer>
serving::Status RestoreWriter(Writer& w, std::string_view& in, const std::string& view) {
  std::string empty(16, '\0');  // an export with no rows
  std::string_view contents = empty;
  if (!in.empty() && !TakeBytes(in, &contents)) return BadState(view);
  return w.Restore(contents);
}

template <class K, class Out>
class KeyedViewSink {
 public:
  KeyedViewSink(std::string view, ViewSinkOptions options)
      : view_(std::move(view)), options_(std::move(options)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    auto schema = OutputCodec<Out>::Schema(options_.value_name);
    if (!schema.ok()) return schema.status();
    value_.resize(schema->value_size());
    auto w = CreateKeyedShard(ctx, view_, *schema, options_, kViewKeyBytes<K>, p, attach);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    return serving::Status::Ok();
  }
  void Prefetch(const K& key, std::int64_t) const { writer_->Prefetch(ViewKeyOf(key)); }
  void Put(const K& key, std::int64_t, std::int64_t, const Out& out, std::uint64_t offset) {
    OutputCodec<Out>::Encode(out, value_);
    check_.Note(writer_->Upsert(ViewKeyOf(key), value_, offset));
    ++written_;
  }
  // As Put, unless the key's value holds a larger first field (an i64: a session's start), so
  // that a result re-emitted late does not replace a newer one.
  void PutUnlessNewer(const K& key, const Out& out, std::uint64_t offset) {
    OutputCodec<Out>::Encode(out, value_);
    std::int64_t start;
    std::memcpy(&start, value_.data(), 8);
    check_.Note(writer_->Update(ViewKeyOf(key), offset, [&](std::span<std::byte> v, bool inserted) {
      std::int64_t held;
      std::memcpy(&held, v.data(), 8);
      if (inserted || held <= start) std::memcpy(v.data(), value_.data(), value_.size());
    }));
    ++written_;
  }
  void Finish(const SlotBase& slot, PartitionCounters& c) {
    if (check_.Report(*writer_, view_, c)) return;
    FinishView(*writer_, slot, c, &written_);
  }
  void Snapshot(std::string* out) { SnapshotWriter(*writer_, out); }
  serving::Status Restore(std::string_view& in) { return RestoreWriter(*writer_, in, view_); }

 private:
  std::string view_;
  ViewSinkOptions options_;
  std::unique_ptr<serving::KeyedTableWriter> writer_;
  std::vector<std::byte> value_;
  std::uint64_t written_ = 0;
  WriteCheck check_;
};

template <class K, class Out>
class WindowedViewSink {
 public:
  WindowedViewSink(std::string view, ViewSinkOptions options, std::int64_t window_size,
                   std::int64_t window_slide)
      : view_(std::move(view)),
        options_(std::move(options)),
        size_(window_size),
        slide_(window_slide) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    auto schema = OutputCodec<Out>::Schema(options_.value_name);
    if (!schema.ok()) return schema.status();
    value_.resize(schema->value_size());
    auto w = CreateWindowedShard(ctx, view_, *schema, options_, kViewKeyBytes<K>, size_, slide_, p,
                                 attach);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    return serving::Status::Ok();
  }
  void Prefetch(const K& key, std::int64_t window_start) const {
    writer_->Prefetch(ViewKeyOf(key), window_start);
  }
  void Put(const K& key, std::int64_t window_start, std::int64_t, const Out& out,
           std::uint64_t offset) {
    OutputCodec<Out>::Encode(out, value_);
    check_.Note(writer_->Upsert(ViewKeyOf(key), window_start, value_, offset));
    ++written_;
  }
  void Finish(const SlotBase& slot, PartitionCounters& c) {
    if (check_.Report(*writer_, view_, c)) return;
    if (options_.retention_ns > 0 && ++batches_ % 64 == 0) writer_->Expire(slot.watermark);
    FinishView(*writer_, slot, c, &written_);
  }
  void Snapshot(std::string* out) { SnapshotWriter(*writer_, out); }
  serving::Status Restore(std::string_view& in) { return RestoreWriter(*writer_, in, view_); }

 private:
  std::string view_;
  ViewSinkOptions options_;
  std::int64_t size_;
  std::int64_t slide_;
  std::unique_ptr<serving::WindowedTableWriter> writer_;
  std::vector<std::byte> value_;
  std::uint64_t written_ = 0;
  std::uint64_t batches_ = 0;
  WriteCheck check_;
};

// Rows appended to a result list view. The list's schema is Out's (a registered record, or an
// operator row with its own codec).
template <class Out>
class ListSink {
 public:
  ListSink(std::string view, std::uint64_t capacity, std::string key_name = "key",
           std::string value_name = "value")
      : view_(std::move(view)),
        capacity_(capacity),
        key_name_(std::move(key_name)),
        value_name_(std::move(value_name)) {}

  serving::Status Open(const JobContext& ctx, int, bool attach) {
    auto schema = OutputCodec<Out>::Schema(value_name_, key_name_);
    if (!schema.ok()) return schema.status();
    value_.resize(schema->value_size());
    serving::ResultListOptions o;
    o.schema = std::move(schema).value();
    o.capacity = capacity_;
    auto w = serving::ResultListWriter::Create(*ctx.ns, view_, ctx.view_version, o);
    if (!w.ok() && attach && w.status().code() == serving::StatusCode::kAlreadyExists)
      w = serving::ResultListWriter::Open(*ctx.ns, view_, ctx.view_version);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    return serving::Status::Ok();
  }
  template <class K>
  void Prefetch(const K&, std::int64_t) const {}
  template <class K>
  void Put(const K&, std::int64_t, std::int64_t, const Out& out, std::uint64_t offset) {
    OutputCodec<Out>::Encode(out, value_);
    check_.Note(writer_->Append(value_, offset));
    ++written_;
  }
  void Finish(const SlotBase& slot, PartitionCounters& c) {
    if (check_.Report(*writer_, view_, c)) return;
    FinishView(*writer_, slot, c, &written_);
  }
  // The rows appended so far: a restore goes back to that count (replayed rows come again, the
  // same, at the same indexes).
  void Snapshot(std::string* out) { PutValue(*out, writer_->count()); }
  serving::Status Restore(std::string_view& in) {
    std::uint64_t count = 0;
    if (!in.empty() && !TakeValue(in, &count)) return BadState(view_);
    if (count > writer_->count()) return BadState(view_);
    writer_->RewindTo(count);
    return serving::Status::Ok();
  }

 private:
  std::string view_;
  std::uint64_t capacity_;
  std::string key_name_;
  std::string value_name_;
  std::unique_ptr<serving::ResultListWriter> writer_;
  std::vector<std::byte> value_;
  std::uint64_t written_ = 0;
  WriteCheck check_;
};

// Opens the log at `path`, creating it with `create` if it does not exist, and a producer.
// Opens (or creates) the log at `path` for appending records of type T, and names T in the
// log's catalog, so that tools decode them.
template <Record T>
serving::Status OpenLogForAppend(const std::string& path, const memlog::CreateOptions& create,
                                 std::unique_ptr<memlog::Log>* log,
                                 std::unique_ptr<memlog::Producer>* producer) {
  const std::string resolved = memlog::Log::ResolvePath(path);
  auto opened = memlog::Log::Open(resolved);
  if (!opened.ok() && opened.status().code() == memlog::StatusCode::kNotFound)
    opened = memlog::Log::Create(resolved, create);
  if (!opened.ok()) return opened.status();
  auto p = (*opened)->NewProducer();
  if (!p.ok()) return p.status();
  if (serving::Status s = RecordCatalog::Register<T>(resolved, RecordName<T>()); !s.ok()) return s;
  *log = std::move(opened).value();
  *producer = std::move(p).value();
  return serving::Status::Ok();
}

// Records appended to a log in chunks a reservation can hold. A full Block log is waited on for
// at most kFullTimeout: past it, no consumer is committing a cursor. kOk, or why the log refused.
inline memlog::AppendResult AppendAll(memlog::Producer& producer,
                                      std::span<const memlog::RecordView> views) {
  constexpr std::chrono::seconds kFullTimeout{10};
  std::chrono::steady_clock::time_point full_since{};
  for (std::size_t at = 0; at < views.size();) {
    const std::size_t n = std::min<std::size_t>(views.size() - at, 1024);
    const memlog::AppendResult r = producer.AppendBatch(views.subspan(at, n));
    if (r == memlog::AppendResult::kFull) {
      const auto now = std::chrono::steady_clock::now();
      if (full_since == std::chrono::steady_clock::time_point{}) full_since = now;
      if (now - full_since < kFullTimeout) {
        std::this_thread::yield();
        continue;
      }
    }
    if (r != memlog::AppendResult::kOk) return r;
    full_since = {};
    at += n;
  }
  return memlog::AppendResult::kOk;
}

// Records (a registered Record type, with its kLogType) appended to another log: a derived
// stream, to chain stages, in log order, one append batch per slot, each record with its event
// time as its timestamp. A log cannot take back what it was given: records appended after the
// last checkpoint are appended again on replay (at-least-once into derived logs).
template <Record Out>
class LogSink {
 public:
  LogSink(std::string log, memlog::CreateOptions create) : path_(std::move(log)), create_(create) {}

  serving::Status Open(const JobContext&, int, bool) {
    return OpenLogForAppend<Out>(path_, create_, &log_, &producer_);
  }
  template <class K>
  void Prefetch(const K&, std::int64_t) const {}
  template <class K>
  void Put(const K&, std::int64_t, std::int64_t time, const Out& out, std::uint64_t) {
    pending_.push_back(out);
    times_.push_back(time);
  }
  void Finish(const SlotBase&, PartitionCounters& c) {
    views_.clear();
    for (std::size_t i = 0; i < pending_.size(); ++i)
      views_.push_back(memlog::RecordView{std::as_bytes(std::span(&pending_[i], 1)),
                                          RecordType<Out>::kLogType, times_[i]});
    if (const memlog::AppendResult r = AppendAll(*producer_, views_);
        r != memlog::AppendResult::kOk) {
      FailPartition(c, "cannot append to log " + path_ + ": " + memlog::AppendResultName(r));
    } else {
      c.emitted.fetch_add(pending_.size(), std::memory_order_relaxed);
    }
    pending_.clear();
    times_.clear();
  }
  void Snapshot(std::string*) {}
  serving::Status Restore(std::string_view&) { return serving::Status::Ok(); }

 private:
  std::string path_;
  memlog::CreateOptions create_;
  std::unique_ptr<memlog::Log> log_;
  std::unique_ptr<memlog::Producer> producer_;
  std::vector<Out> pending_;
  std::vector<std::int64_t> times_;
  std::vector<memlog::RecordView> views_;
};

// Where a keyed stage's results go when the pipeline goes on after it: the slot's batch of the
// stage's partition, which the next stage reads (TypedPlan sets it before each batch).
template <class Out>
struct Outbox {
  operators::Batch<Out>* batch = nullptr;
  std::int64_t watermark = operators::kNoWatermark;  // the results' watermark (set per batch)
};
template <>
struct Outbox<void> {};

// The results of a keyed stage as records of the next stage's stream, with their event time,
// the offset of the record that produced them and the watermark they were produced under
// (the one before the batch: a window's result is never late for the stage after it, as in
// Flink). Nothing is kept or checkpointed: the next stage consumes the results within the slot.
template <class Out>
class EmitSink {
 public:
  static constexpr bool kStream = true;
  explicit EmitSink(Outbox<Out>* box) : box_(box) {}
  serving::Status Open(const JobContext&, int, bool) { return serving::Status::Ok(); }
  template <class K>
  void Prefetch(const K&, std::int64_t) const {}
  template <class K>
  void Put(const K&, std::int64_t, std::int64_t time, const Out& out, std::uint64_t offset) {
    box_->batch->push_back(out, offset, time);
    box_->batch->watermarks.push_back(box_->watermark);
  }
  // A result produced under the watermark of the record that produced it (a running aggregate's).
  void Put(const Out& out, std::int64_t time, std::uint64_t offset, std::int64_t watermark) {
    box_->batch->push_back(out, offset, time);
    box_->batch->watermarks.push_back(watermark);
  }
  void Finish(const SlotBase&, PartitionCounters&) {}
  void Snapshot(std::string*) {}
  serving::Status Restore(std::string_view&) { return serving::Status::Ok(); }

 private:
  Outbox<Out>* box_;
};

template <class Sink>
concept StreamSink = requires {
  requires Sink::kStream;
};

}  // namespace detail
}  // namespace kappa::engine
