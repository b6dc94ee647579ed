// TypedPlan: the JobPlan of a pipeline, with its record types, functions and operators known at
// compile time, so that the per-record work is a tight loop with no virtual call. The builder
// in engine/pipeline.h makes these; the runtime sees only the JobPlan interface.
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "engine/detail/bytes.h"
#include "engine/detail/codec.h"
#include "engine/detail/job_plan.h"
#include "engine/record.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "operators/batch.h"
#include "operators/window_aggregator.h"
#include "serving/namespace.h"
#include "serving/shard.h"
#include "serving/view_writer.h"

namespace kappa::engine {

// Where a job's sinks go.
struct JobContext {
  serving::Namespace* ns = nullptr;
  int partitions = 1;               // a power of two: the shards of each view
  std::uint32_t view_version = 1;
};

struct ViewSinkOptions {
  std::string key_name = "key";
  std::string value_name = "value";      // the value field of a scalar result
  std::uint64_t expected_keys = 1 << 16; // per partition; views grow past it
  std::uint32_t windows_per_key = 8;     // windowed views
  std::int64_t retention_ns = 0;         // windowed views: expire windows this long after they end
};

namespace detail {

// The event time of a record: a function of it, or the log record's timestamp.
struct LogTimestamp {};

template <class T, class K>
struct SubBatch : operators::Batch<T> {
  std::vector<K> keys;
  void clear() {
    operators::Batch<T>::clear();
    keys.clear();
  }
};

inline std::int64_t SaturatingSub(std::int64_t a, std::int64_t b) {
  if (a < std::numeric_limits<std::int64_t>::min() + b) return std::numeric_limits<std::int64_t>::min();
  return a - b;
}

template <class K>
std::uint64_t KeyBits(const K& k) {
  static_assert(std::is_integral_v<K>, "keys are integers");
  return static_cast<std::uint64_t>(k);
}

// Creates shard `p` of view `name` (version and shard count from `ctx`); with `attach`, opens
// it if it exists.
inline serving::Result<std::unique_ptr<serving::KeyedTableWriter>> CreateKeyedShard(
    const JobContext& ctx, const std::string& name, const serving::Schema& schema, const ViewSinkOptions& o, int p,
    bool attach) {
  serving::KeyedTableOptions ko;
  ko.schema = schema;
  ko.key_name = o.key_name;
  ko.expected_keys = o.expected_keys;
  ko.shards = static_cast<std::uint32_t>(ctx.partitions);
  ko.shard = static_cast<std::uint32_t>(p);
  auto w = serving::KeyedTableWriter::Create(*ctx.ns, name, ctx.view_version, ko);
  if (!w.ok() && attach && w.status().code() == serving::StatusCode::kAlreadyExists)
    return serving::KeyedTableWriter::Open(*ctx.ns, name, ctx.view_version, static_cast<std::uint32_t>(p));
  return w;
}

inline serving::Result<std::unique_ptr<serving::WindowedTableWriter>> CreateWindowedShard(
    const JobContext& ctx, const std::string& name, const serving::Schema& schema, const ViewSinkOptions& o,
    std::int64_t size, std::int64_t slide, int p, bool attach) {
  serving::WindowedTableOptions wo;
  wo.schema = schema;
  wo.key_name = o.key_name;
  wo.expected_entries = o.expected_keys;
  wo.window_size_ns = size;
  wo.window_slide_ns = slide;
  wo.windows_per_key = o.windows_per_key;
  wo.retention_ns = o.retention_ns;
  wo.shards = static_cast<std::uint32_t>(ctx.partitions);
  wo.shard = static_cast<std::uint32_t>(p);
  auto w = serving::WindowedTableWriter::Create(*ctx.ns, name, ctx.view_version, wo);
  if (!w.ok() && attach && w.status().code() == serving::StatusCode::kAlreadyExists)
    return serving::WindowedTableWriter::Open(*ctx.ns, name, ctx.view_version, static_cast<std::uint32_t>(p));
  return w;
}

inline serving::Status BadState(const std::string& view) {
  return serving::Status::Error(serving::StatusCode::kCorrupt, view + ": checkpointed state does not fit this job");
}

// ---- Partitions: the keyed operator and the sink of one key partition ----

// A running aggregate per key, kept in a keyed view: updated in place per record when the
// aggregate's result is its accumulator (count, sum, min, max), else kept in a state table and
// upserted into the view after every batch.
template <class T, class K, operators::Aggregation A>
class KeyedAggregatePartition {
 public:
  using Output = typename A::Output;
  static constexpr bool kStateInView = operators::ResultIsAcc<A> && std::is_arithmetic_v<Output>;
  KeyedAggregatePartition(A aggregate, std::string view, ViewSinkOptions options)
      : aggregate_(std::move(aggregate)), view_(std::move(view)), options_(std::move(options)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    auto schema = OutputCodec<Output>::Schema(options_.value_name);
    if (!schema.ok()) return schema.status();
    value_.resize(schema->value_size());
    auto w = CreateKeyedShard(ctx, view_, *schema, options_, p, attach);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    if constexpr (!kStateInView)
      state_ = std::make_unique<operators::KeyedAggregator<K, A>>(aggregate_, options_.expected_keys);
    return serving::Status::Ok();
  }

  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    // Random keys miss the cache in the state and in the view: fetch a few keys ahead, so that
    // the misses overlap instead of following one another.
    constexpr std::size_t kAhead = operators::KeyedAggregator<K, A>::kLookahead;
    const std::size_t n = b.size();
    if constexpr (kStateInView) {
      for (std::size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) writer_->Prefetch(KeyBits(b.keys[i + kAhead]));
        writer_->Update(KeyBits(b.keys[i]), b.offsets[i], [&](std::span<std::byte> v, bool inserted) {
          Output acc = inserted ? aggregate_.Init() : OutputCodec<Output>::Decode(v);
          aggregate_.Add(acc, b.records[i]);
          OutputCodec<Output>::Encode(acc, v);
        });
      }
      writer_->SetProgress(slot.end_offset, slot.watermark);
      c.emitted.fetch_add(n, std::memory_order_relaxed);
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) state_->Prefetch(b.keys[i + kAhead]);
      state_->Add(b.keys[i], b.records[i], b.offsets[i]);
    }
    std::uint64_t emitted = 0;
    state_->Flush(
        [&](const K& k, const Output& o, std::uint64_t offset) {
          OutputCodec<Output>::Encode(o, value_);
          writer_->Upsert(KeyBits(k), value_, offset);
          ++emitted;
        },
        [&](const K& k) {
          state_->Prefetch(k);
          writer_->Prefetch(KeyBits(k));
        });
    writer_->SetProgress(slot.end_offset, slot.watermark);
    c.emitted.fetch_add(emitted, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters&) {}

  // The view's contents, then (unless the state is the view) the state table's entries.
  void Snapshot(std::string* out) {
    PutBytes(*out, writer_->Export());
    if constexpr (!kStateInView) {
      PutValue(*out, static_cast<std::uint64_t>(state_->size()));
      state_->state().ForEach([&](const K& k, typename operators::KeyedAggregator<K, A>::Entry& e) {
        PutValue(*out, k);
        PutValue(*out, e);
      });
    }
  }
  serving::Status Restore(std::string_view in) {
    std::string empty(16, '\0');  // no rows
    std::string_view view = empty;
    if (!in.empty() && !TakeBytes(in, &view)) return BadState(view_);
    if (serving::Status s = writer_->Restore(view); !s.ok()) return s;
    if constexpr (!kStateInView) {
      state_ = std::make_unique<operators::KeyedAggregator<K, A>>(aggregate_, options_.expected_keys);
      std::uint64_t n = 0;
      if (!in.empty() && !TakeValue(in, &n)) return BadState(view_);
      for (std::uint64_t i = 0; i < n; ++i) {
        K k;
        typename operators::KeyedAggregator<K, A>::Entry e;
        if (!TakeValue(in, &k) || !TakeValue(in, &e)) return BadState(view_);
        e.dirty = 0;
        *state_->state().Insert(k, e).first = e;
      }
    }
    return serving::Status::Ok();
  }

 private:
  A aggregate_;
  std::string view_;
  ViewSinkOptions options_;
  std::unique_ptr<operators::KeyedAggregator<K, A>> state_;
  std::unique_ptr<serving::KeyedTableWriter> writer_;
  std::vector<std::byte> value_;
};

// An aggregate per key and event-time window, written to a windowed view when the watermark
// passes the window's end.
template <class T, class K, operators::Aggregation A, class Windows>
class WindowAggregatePartition {
 public:
  using Output = typename A::Output;
  WindowAggregatePartition(A aggregate, Windows windows, std::int64_t allowed_lateness, std::string view,
                           ViewSinkOptions options)
      : aggregate_(std::move(aggregate)), windows_(windows), allowed_lateness_(allowed_lateness),
        view_(std::move(view)), options_(std::move(options)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    auto schema = OutputCodec<Output>::Schema(options_.value_name);
    if (!schema.ok()) return schema.status();
    value_.resize(schema->value_size());
    auto w = CreateWindowedShard(ctx, view_, *schema, options_, windows_.size(), windows_.slide(), p, attach);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    state_ = std::make_unique<operators::WindowAggregator<K, A, Windows>>(aggregate_, windows_, allowed_lateness_);
    return serving::Status::Ok();
  }

  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    std::uint64_t late = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
      late += state_->Add(b.keys[i], b.records[i], b.times[i], b.offsets[i], b.watermarks[i]) ? 0 : 1;
    Emit(slot.watermark, c);
    if (options_.retention_ns > 0 && ++batches_ % 64 == 0) writer_->Expire(slot.watermark);
    writer_->SetProgress(slot.end_offset, slot.watermark);
    c.late.fetch_add(late, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters& c) { Emit(std::numeric_limits<std::int64_t>::max(), c); }

  // The view's contents, the late count, then each open window: its start and entries.
  using Aggregator = operators::WindowAggregator<K, A, Windows>;
  void Snapshot(std::string* out) {
    PutBytes(*out, writer_->Export());
    PutValue(*out, state_->late_records());
    PutValue(*out, static_cast<std::uint64_t>(state_->windows().size()));
    for (auto& [start, table] : state_->windows()) {
      PutValue(*out, start);
      PutValue(*out, static_cast<std::uint64_t>(table.size()));
      table.ForEach([&](const K& k, typename Aggregator::Entry& e) {
        PutValue(*out, k);
        PutValue(*out, e);
      });
    }
  }
  serving::Status Restore(std::string_view in) {
    std::string empty(16, '\0');  // no rows
    std::string_view view = empty;
    if (!in.empty() && !TakeBytes(in, &view)) return BadState(view_);
    if (serving::Status s = writer_->Restore(view); !s.ok()) return s;
    state_ = std::make_unique<Aggregator>(aggregate_, windows_, allowed_lateness_);
    if (in.empty()) return serving::Status::Ok();
    std::uint64_t late = 0, windows = 0;
    if (!TakeValue(in, &late) || !TakeValue(in, &windows)) return BadState(view_);
    state_->set_late_records(late);
    for (std::uint64_t w = 0; w < windows; ++w) {
      std::int64_t start;
      std::uint64_t n;
      if (!TakeValue(in, &start) || !TakeValue(in, &n)) return BadState(view_);
      auto& table = state_->windows().emplace(start, typename Aggregator::Table(n)).first->second;
      for (std::uint64_t i = 0; i < n; ++i) {
        K k;
        typename Aggregator::Entry e;
        if (!TakeValue(in, &k) || !TakeValue(in, &e)) return BadState(view_);
        *table.Insert(k, e).first = e;
      }
    }
    return serving::Status::Ok();
  }

 private:
  void Emit(std::int64_t watermark, PartitionCounters& c) {
    std::uint64_t emitted = 0;
    state_->AdvanceTo(watermark, [&](const K& k, const operators::Window& w, const Output& o, std::uint64_t offset) {
      OutputCodec<Output>::Encode(o, value_);
      writer_->Upsert(KeyBits(k), w.start, value_, offset);
      ++emitted;
    });
    c.emitted.fetch_add(emitted, std::memory_order_relaxed);
  }

  A aggregate_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  std::string view_;
  ViewSinkOptions options_;
  std::unique_ptr<operators::WindowAggregator<K, A, Windows>> state_;
  std::unique_ptr<serving::WindowedTableWriter> writer_;
  std::vector<std::byte> value_;
  std::uint64_t batches_ = 0;
};

// Every record, appended to a result list view (one partition).
template <Record T, class K>
class ListPartition {
 public:
  ListPartition(std::string view, std::uint64_t capacity) : view_(std::move(view)), capacity_(capacity) {}

  serving::Status Open(const JobContext& ctx, int, bool attach) {
    auto schema = RecordSchema<T>();
    if (!schema.ok()) return schema.status();
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
  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    for (std::size_t i = 0; i < b.size(); ++i)
      writer_->Append(std::as_bytes(std::span(&b.records[i], 1)), b.offsets[i]);
    writer_->SetProgress(slot.end_offset, slot.watermark);
    c.emitted.fetch_add(b.size(), std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters&) {}

  // The rows appended so far: a restore goes back to that count (replayed rows come again, the
  // same, at the same indexes).
  void Snapshot(std::string* out) { PutValue(*out, writer_->count()); }
  serving::Status Restore(std::string_view in) {
    std::uint64_t count = 0;
    if (!in.empty() && !TakeValue(in, &count)) return BadState(view_);
    writer_->RewindTo(count);
    return serving::Status::Ok();
  }

 private:
  std::string view_;
  std::uint64_t capacity_;
  std::unique_ptr<serving::ResultListWriter> writer_;
};

// Every record appended to another log (a derived stream, to chain stages), in log order, one
// batch per slot, with the record's event time as its timestamp. One partition.
template <Record T, class K>
class LogPartition {
 public:
  static constexpr std::chrono::seconds kFullTimeout{10};

  LogPartition(std::string log, memlog::CreateOptions create) : path_(std::move(log)), create_(create) {}

  serving::Status Open(const JobContext&, int, bool) {
    const std::string path = memlog::Log::ResolvePath(path_);
    auto log = memlog::Log::Open(path);
    if (!log.ok() && log.status().code() == memlog::StatusCode::kNotFound) log = memlog::Log::Create(path, create_);
    if (!log.ok()) return serving::Status::Error(serving::StatusCode::kIoError, log.status().message());
    log_ = std::move(log).value();
    auto producer = log_->NewProducer();
    if (!producer.ok()) return serving::Status::Error(serving::StatusCode::kIoError, producer.status().message());
    producer_ = std::move(producer).value();
    return serving::Status::Ok();
  }
  void Process(SubBatch<T, K>& b, const SlotBase&, PartitionCounters& c) {
    views_.clear();
    for (std::size_t i = 0; i < b.size(); ++i)
      views_.push_back(memlog::RecordView{std::as_bytes(std::span(&b.records[i], 1)), RecordType<T>::kLogType, b.times[i]});
    // In chunks that a reservation can hold. A full Block log is waited on, for at most
    // kFullTimeout: past it, no consumer is committing a cursor, and the sink fails.
    std::chrono::steady_clock::time_point full_since{};
    for (std::size_t at = 0; at < views_.size();) {
      const std::size_t n = std::min<std::size_t>(views_.size() - at, 1024);
      const memlog::AppendResult r = producer_->AppendBatch(std::span(views_.data() + at, n));
      if (r == memlog::AppendResult::kFull) {
        const auto now = std::chrono::steady_clock::now();
        if (full_since == std::chrono::steady_clock::time_point{}) full_since = now;
        if (now - full_since < kFullTimeout) {
          std::this_thread::yield();
          continue;
        }
      }
      if (r != memlog::AppendResult::kOk) {
        c.failed.store(true, std::memory_order_relaxed);
        return;
      }
      full_since = {};
      at += n;
    }
    c.emitted.fetch_add(b.size(), std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters&) {}

  // A log cannot take back what it was given: records appended after the last checkpoint are
  // appended again on replay (at-least-once into derived logs).
  void Snapshot(std::string*) {}
  serving::Status Restore(std::string_view) { return serving::Status::Ok(); }

 private:
  std::string path_;
  memlog::CreateOptions create_;
  std::unique_ptr<memlog::Log> log_;
  std::unique_ptr<memlog::Producer> producer_;
  std::vector<memlog::RecordView> views_;
};

// ---- The plan ----

template <Record In, class TimeFn, class T, class Chain, class K, class KeyFn, class Part>
class TypedPlan final : public JobPlan {
 public:
  struct Slot : SlotBase {
    operators::Batch<In> source;
    operators::Batch<T> out;
    std::vector<SubBatch<T, K>> parts;
  };
  using PartFactory = std::function<std::unique_ptr<Part>(int partition)>;

  TypedPlan(std::string name, TimeFn time, std::int64_t max_out_of_orderness, Chain chain, KeyFn key,
            PartFactory make_part, JobContext ctx, std::size_t batch_records)
      : name_(std::move(name)), time_(std::move(time)), bound_(max_out_of_orderness), chain_(std::move(chain)),
        key_(std::move(key)), make_part_(std::move(make_part)), ctx_(ctx), batch_records_(batch_records),
        counters_(static_cast<std::size_t>(ctx.partitions)) {}

  const std::string& name() const override { return name_; }
  int partitions() const override { return ctx_.partitions; }

  serving::Status Open(bool attach) override {
    for (int p = 0; p < ctx_.partitions; ++p) {
      parts_.push_back(make_part_(p));
      if (serving::Status s = parts_.back()->Open(ctx_, p, attach); !s.ok()) return s;
    }
    return serving::Status::Ok();
  }

  void Snapshot(Checkpoint* out) override {
    out->max_time = max_time_;
    out->watermark = watermark_;
    out->partitions.assign(parts_.size(), std::string());
    for (std::size_t p = 0; p < parts_.size(); ++p) parts_[p]->Snapshot(&out->partitions[p]);
  }

  serving::Status Restore(const Checkpoint& c) override {
    if (!c.partitions.empty() && c.partitions.size() != parts_.size())
      return serving::Status::Error(serving::StatusCode::kInvalidArgument,
                                    "job " + name_ + ": its checkpoint has " + std::to_string(c.partitions.size()) +
                                        " partitions, the engine " + std::to_string(parts_.size()));
    for (std::size_t p = 0; p < parts_.size(); ++p) {
      if (serving::Status s = parts_[p]->Restore(c.partitions.empty() ? std::string_view() : c.partitions[p]);
          !s.ok())
        return s;
    }
    max_time_ = c.partitions.empty() ? std::numeric_limits<std::int64_t>::min() : c.max_time;
    watermark_ = c.partitions.empty() ? std::numeric_limits<std::int64_t>::min() : c.watermark;
    return serving::Status::Ok();
  }

  std::unique_ptr<SlotBase> NewSlot() override {
    auto slot = std::make_unique<Slot>();
    slot->source.reserve(batch_records_);
    slot->out.reserve(batch_records_);
    slot->parts.resize(static_cast<std::size_t>(ctx_.partitions));
    for (auto& part : slot->parts) part.reserve(batch_records_ / static_cast<std::size_t>(ctx_.partitions) + 16);
    return slot;
  }

  void Decode(const memlog::RecordBatch& records, SlotBase* base) override {
    auto* slot = static_cast<Slot*>(base);
    operators::Batch<In>& b = slot->source;
    b.clear();
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    for (const memlog::Record& r : records) {
      if (r.type != RecordType<In>::kLogType) continue;
      if (r.payload.size() != sizeof(In)) {
        malformed_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      In rec;
      std::memcpy(&rec, r.payload.data(), sizeof rec);
      oldest = std::min(oldest, r.timestamp_ns);
      std::int64_t t;
      if constexpr (std::is_same_v<TimeFn, LogTimestamp>) {
        t = r.timestamp_ns;
      } else {
        t = time_(rec);
      }
      b.push_back(rec, r.offset, t);
      b.watermarks.push_back(watermark_);
      if (t > max_time_) {
        max_time_ = t;
        watermark_ = SaturatingSub(t, bound_);
      }
    }
    slot->end_offset = records.end_offset();
    slot->watermark = watermark_;
    slot->records_in = b.size();
    slot->oldest_append_ns = oldest;
  }

  void Transform(SlotBase* base) override {
    auto* slot = static_cast<Slot*>(base);
    const operators::Batch<In>& in = slot->source;
    operators::Batch<T>& out = slot->out;
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
      chain_(in.records[i], [&](const T& t) {
        out.records.push_back(t);
        out.offsets.push_back(in.offsets[i]);
        out.times.push_back(in.times[i]);
        out.watermarks.push_back(in.watermarks[i]);
      });
    }
  }

  void Split(SlotBase* base) override {
    auto* slot = static_cast<Slot*>(base);
    const operators::Batch<T>& out = slot->out;
    const auto count = static_cast<std::uint32_t>(ctx_.partitions);
    for (auto& part : slot->parts) part.clear();
    for (std::size_t i = 0; i < out.size(); ++i) {
      const K k = key_(out.records[i]);
      SubBatch<T, K>& part = slot->parts[count == 1 ? 0 : serving::ShardOf(KeyBits(k), count)];
      part.records.push_back(out.records[i]);
      part.offsets.push_back(out.offsets[i]);
      part.times.push_back(out.times[i]);
      part.watermarks.push_back(out.watermarks[i]);
      part.keys.push_back(k);
    }
  }

  void Process(int p, SlotBase* base) override {
    auto* slot = static_cast<Slot*>(base);
    PartitionCounters& c = counters_[static_cast<std::size_t>(p)];
    SubBatch<T, K>& part = slot->parts[static_cast<std::size_t>(p)];
    parts_[static_cast<std::size_t>(p)]->Process(part, *slot, c);
    if (!part.empty()) {
      timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      c.latency.Record(ts.tv_sec * 1'000'000'000LL + ts.tv_nsec - slot->oldest_append_ns);
    }
    c.records.fetch_add(part.size(), std::memory_order_relaxed);
    c.watermark.store(slot->watermark, std::memory_order_relaxed);
    c.applied_offset.store(slot->end_offset, std::memory_order_release);
  }

  void FlushWindows() override {
    for (int p = 0; p < ctx_.partitions; ++p)
      parts_[static_cast<std::size_t>(p)]->FlushWindows(counters_[static_cast<std::size_t>(p)]);
  }

  const PartitionCounters& counters(int p) const override { return counters_[static_cast<std::size_t>(p)]; }
  std::uint64_t malformed() const override { return malformed_.load(std::memory_order_relaxed); }

 private:
  std::string name_;
  TimeFn time_;
  std::int64_t bound_;
  Chain chain_;
  KeyFn key_;
  PartFactory make_part_;
  JobContext ctx_;
  std::size_t batch_records_;
  std::vector<std::unique_ptr<Part>> parts_;
  std::vector<PartitionCounters> counters_;
  std::atomic<std::uint64_t> malformed_{0};
  // Decode's (one thread).
  std::int64_t max_time_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t watermark_ = std::numeric_limits<std::int64_t>::min();
};

}  // namespace detail
}  // namespace kappa::engine
