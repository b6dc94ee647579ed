// TypedPlan: the JobPlan of a pipeline, with its record types, functions and operators known at
// compile time, so that the per-record work is a tight loop with no virtual call. The builder
// in engine/pipeline.h makes these; the runtime sees only the JobPlan interface.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/detail/codec.h"
#include "engine/detail/contracts.h"
#include "engine/detail/job_plan.h"
#include "engine/detail/sinks.h"
#include "engine/key.h"
#include "engine/record.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "operators/arg_max.h"
#include "operators/batch.h"
#include "operators/bytes.h"
#include "operators/window_aggregator.h"
#include "serving/namespace.h"
#include "serving/shard.h"
#include "serving/view_writer.h"

namespace kappa::engine {

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
  if (a < std::numeric_limits<std::int64_t>::min() + b)
    return std::numeric_limits<std::int64_t>::min();
  return a - b;
}

// How a log record becomes a pipeline's source record: records of the source type, of its size.
enum class SourceRead { kOk, kSkip, kMalformed };
template <class In>
struct SourceCodec {
  static SourceRead Read(const memlog::Record& r, In* out) {
    if (r.type != RecordType<In>::kLogType) return SourceRead::kSkip;
    if (!PayloadFits<In>(r.payload.size())) return SourceRead::kMalformed;
    std::memcpy(out, r.payload.data(), sizeof(In));
    return SourceRead::kOk;
  }
};
// A record and its tail (engine/record.h): a tail longer than N is malformed.
template <class T, std::size_t N>
struct SourceCodec<WithTail<T, N>> {
  static SourceRead Read(const memlog::Record& r, WithTail<T, N>* out) {
    if (r.type != RecordType<T>::kLogType) return SourceRead::kSkip;
    const std::size_t size = r.payload.size();
    if (size < sizeof(T) || size - sizeof(T) > N) return SourceRead::kMalformed;
    std::memcpy(&out->record, r.payload.data(), sizeof(T));
    out->tail_size = size - sizeof(T);
    std::memcpy(out->tail, r.payload.data() + sizeof(T), out->tail_size);
    std::memset(out->tail + out->tail_size, 0, N - out->tail_size);
    return SourceRead::kOk;
  }
};

// A source record's event time: the log record's timestamp, or the pipeline's time function of
// the record (a function of the record and the timestamp, for a join's two sides).
template <class TimeFn, class In>
std::int64_t EventTimeOf(const TimeFn& time, const In& rec, std::int64_t log_time) {
  if constexpr (std::is_same_v<TimeFn, LogTimestamp>) {
    return log_time;
  } else if constexpr (std::is_invocable_v<const TimeFn&, const In&, std::int64_t>) {
    return time(rec, log_time);
  } else {
    return time(rec);
  }
}

// ---- Partitions: the keyed operator and the sink of one key partition ----
//
// Every partition type (detail::Partition, engine/detail/contracts.h): Open(ctx, partition,
// attach), Process(sub-batch, slot, counters) in log order, FlushWindows(counters),
// Snapshot(std::string*) and Restore(std::string_view) (empty: nothing applied yet).

// A keyed aggregator's entries into a checkpoint, and back (consuming its part of `in`; an
// empty input leaves *state empty). False on a malformed checkpoint.
template <class K, operators::Aggregation A>
void SnapshotKeyedState(operators::KeyedAggregator<K, A>& state, std::string* out) {
  PutValue(*out, static_cast<std::uint64_t>(state.size()));
  state.state().ForEach([&](const K& k, typename operators::KeyedAggregator<K, A>::Entry& e) {
    PutValue(*out, k);
    PutValue(*out, e);
  });
}
// *state becomes a new aggregator (sized for `expected_keys`) holding the entries of `in`.
template <class K, operators::Aggregation A>
serving::Status RestoreKeyedState(std::string_view& in, const A& aggregate,
                                  std::size_t expected_keys,
                                  std::unique_ptr<operators::KeyedAggregator<K, A>>* state,
                                  const std::string& what) {
  *state = std::make_unique<operators::KeyedAggregator<K, A>>(aggregate, expected_keys);
  std::uint64_t n = 0;
  if (!in.empty() && !TakeValue(in, &n)) return BadState(what);
  for (std::uint64_t i = 0; i < n; ++i) {
    K k;
    typename operators::KeyedAggregator<K, A>::Entry e;
    if (!TakeValue(in, &k) || !TakeValue(in, &e)) return BadState(what);
    e.dirty = 0;
    *(*state)->state().Insert(k, e).first = e;
  }
  return serving::Status::Ok();
}

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
    auto w = CreateKeyedShard(ctx, view_, *schema, options_, kViewKeyBytes<K>, p, attach);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    if constexpr (!kStateInView)
      state_ =
          std::make_unique<operators::KeyedAggregator<K, A>>(aggregate_, options_.expected_keys);
    return serving::Status::Ok();
  }

  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    // Random keys miss the cache in the state and in the view: fetch a few keys ahead, so that
    // the misses overlap instead of following one another.
    constexpr std::size_t kAhead = operators::KeyedAggregator<K, A>::kLookahead;
    const std::size_t n = b.size();
    if constexpr (kStateInView) {
      for (std::size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) writer_->Prefetch(ViewKeyOf(b.keys[i + kAhead]));
        check_.Note(writer_->Update(
            ViewKeyOf(b.keys[i]), b.offsets[i], [&](std::span<std::byte> v, bool inserted) {
              Output acc = inserted ? aggregate_.Init() : OutputCodec<Output>::Decode(v);
              aggregate_.Add(acc, b.records[i]);
              OutputCodec<Output>::Encode(acc, v);
            }));
      }
      if (check_.Report(*writer_, view_, c)) return;
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
          check_.Note(writer_->Upsert(ViewKeyOf(k), value_, offset));
          ++emitted;
        },
        [&](const K& k) {
          state_->Prefetch(k);
          writer_->Prefetch(ViewKeyOf(k));
        });
    if (check_.Report(*writer_, view_, c)) return;
    writer_->SetProgress(slot.end_offset, slot.watermark);
    c.emitted.fetch_add(emitted, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters&) {}

  // The view's contents, then (unless the state is the view) the state table's entries.
  void Snapshot(std::string* out) {
    SnapshotWriter(*writer_, out);
    if constexpr (!kStateInView) SnapshotKeyedState(*state_, out);
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = RestoreWriter(*writer_, in, view_); !s.ok()) return s;
    if constexpr (!kStateInView)
      return RestoreKeyedState(in, aggregate_, options_.expected_keys, &state_, view_);
    return serving::Status::Ok();
  }

 private:
  A aggregate_;
  std::string view_;
  ViewSinkOptions options_;
  std::unique_ptr<operators::KeyedAggregator<K, A>> state_;
  std::unique_ptr<serving::KeyedTableWriter> writer_;
  std::vector<std::byte> value_;
  WriteCheck check_;
};

// A running aggregate per key whose results go on as a stream: after each record, its key's
// result (KeyedResult), in log order, with the record's event time and watermark.
template <class T, class K, operators::Aggregation A, class Sink>
class KeyedAggregateStreamPartition {
 public:
  using Output = typename A::Output;
  KeyedAggregateStreamPartition(A aggregate, std::size_t expected_keys, Sink sink, std::string name)
      : aggregate_(std::move(aggregate)),
        expected_keys_(expected_keys),
        sink_(std::move(sink)),
        name_(std::move(name)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    state_ = std::make_unique<operators::KeyedAggregator<K, A>>(aggregate_, expected_keys_);
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    constexpr std::size_t kAhead = operators::KeyedAggregator<K, A>::kLookahead;
    const std::size_t n = b.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) state_->Prefetch(b.keys[i + kAhead]);
      state_->Add(b.keys[i], b.records[i], b.offsets[i]);
      const KeyedResult<K, Output> r{b.keys[i], aggregate_.Result(*state_->Find(b.keys[i]))};
      sink_.Put(r, b.times[i], b.offsets[i], b.watermarks[i]);
    }
    state_->Flush([](const K&, const Output&, std::uint64_t) {});  // (marks the keys clean)
    sink_.Finish(slot, c);
  }
  void FlushWindows(PartitionCounters&) {}
  void Snapshot(std::string* out) { SnapshotKeyedState(*state_, out); }
  serving::Status Restore(std::string_view in) {
    return RestoreKeyedState(in, aggregate_, expected_keys_, &state_, name_);
  }

 private:
  A aggregate_;
  std::size_t expected_keys_;
  Sink sink_;
  std::string name_;
  std::unique_ptr<operators::KeyedAggregator<K, A>> state_;
};

// The K keys whose aggregate ranks best (by one numeric field of the result), kept as a top-K
// view: readers see whole lists, best first. One partition, so that one writer sees every key.
// After each batch the keys it changed are offered with their new results; when a key among the
// K best gets worse, every key's result is offered again (its place may go to any other key),
// so the list is exact for any aggregate. For results that only get better in the list's order
// (counts and sums of positive numbers, largest first) that never happens.
template <class T, class K, operators::Aggregation A>
class TopKAggregatePartition {
 public:
  using Output = typename A::Output;
  static_assert(IntegerKey<K>, "a top-K view ranks integer keys");
  TopKAggregatePartition(A aggregate, std::string view, std::uint32_t k, ViewSinkOptions options)
      : aggregate_(std::move(aggregate)),
        view_(std::move(view)),
        k_(k),
        options_(std::move(options)) {}

  serving::Status Open(const JobContext& ctx, int, bool attach) {
    auto schema = OutputCodec<Output>::Schema(options_.value_name);
    if (!schema.ok()) return schema.status();
    serving::TopKOptions o;
    o.key_name = options_.key_name;
    o.schema = *schema;
    o.k = k_;
    o.order_field = options_.order_field.empty() ? schema->field(0).name : options_.order_field;
    o.descending = !options_.ascending;
    auto w = serving::TopKWriter::Create(*ctx.ns, view_, ctx.view_version, o);
    if (!w.ok() && attach && w.status().code() == serving::StatusCode::kAlreadyExists)
      w = serving::TopKWriter::Open(*ctx.ns, view_, ctx.view_version);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    value_.resize(schema->value_size());
    state_ = std::make_unique<operators::KeyedAggregator<K, A>>(aggregate_, options_.expected_keys);
    return serving::Status::Ok();
  }

  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    constexpr std::size_t kAhead = operators::KeyedAggregator<K, A>::kLookahead;
    const std::size_t n = b.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) state_->Prefetch(b.keys[i + kAhead]);
      state_->Add(b.keys[i], b.records[i], b.offsets[i]);
    }
    bool worse = false;
    std::uint64_t offered = 0;
    state_->Flush([&](const K& k, const Output& o, std::uint64_t offset) {
      OutputCodec<Output>::Encode(o, value_);
      double before;
      if (writer_->Holds(ViewKeyOf(k), &before)) {
        const double now = writer_->schema().GetNumber(value_, OrderField());
        worse = worse || (options_.ascending ? now > before : now < before) || std::isnan(now);
      }
      check_.Note(writer_->Offer(ViewKeyOf(k), value_, offset));
      ++offered;
    });
    if (worse) OfferAll();
    writer_->Publish();
    if (check_.Report(*writer_, view_, c)) return;
    writer_->SetProgress(slot.end_offset, slot.watermark);
    c.emitted.fetch_add(offered, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters&) {}

  // The state table's entries (the list is derived from them).
  void Snapshot(std::string* out) { SnapshotKeyedState(*state_, out); }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s =
            RestoreKeyedState(in, aggregate_, options_.expected_keys, &state_, view_);
        !s.ok())
      return s;
    OfferAll();
    writer_->Publish();
    return serving::Status::Ok();
  }

 private:
  std::size_t OrderField() const {
    const int i = options_.order_field.empty() ? 0 : writer_->schema().Find(options_.order_field);
    return static_cast<std::size_t>(std::max(i, 0));
  }
  // Offers every key's current result; Publish then keeps the K best.
  void OfferAll() {
    state_->state().ForEach([&](const K& k, typename operators::KeyedAggregator<K, A>::Entry& e) {
      OutputCodec<Output>::Encode(aggregate_.Result(e.acc), value_);
      check_.Note(writer_->Offer(ViewKeyOf(k), value_, e.offset));
    });
  }

  A aggregate_;
  std::string view_;
  std::uint32_t k_;
  ViewSinkOptions options_;
  std::unique_ptr<operators::KeyedAggregator<K, A>> state_;
  std::unique_ptr<serving::TopKWriter> writer_;
  std::vector<std::byte> value_;
  WriteCheck check_;
};

// A windowed partition's batch: each record into `state` (its Add false: late, counted and
// appended to the late log), then emit(slot watermark) for what that closes, and the batch's end
// for the sink and the late log.
template <class T, class K, class State, class LateLog, class Sink, class EmitFn>
void ProcessWindows(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c, State& state,
                    LateLog& late_log, Sink& sink, EmitFn&& emit) {
  std::uint64_t late = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (state.Add(b.keys[i], b.records[i], b.times[i], b.offsets[i], b.watermarks[i])) continue;
    ++late;
    late_log.Put(0, 0, b.times[i], b.records[i], b.offsets[i]);
  }
  emit(slot.watermark);
  sink.Finish(slot, c);
  late_log.Finish(slot, c);
  c.late.fetch_add(late, std::memory_order_relaxed);
}

// An aggregate per key and event-time window (tumbling or hopping), written to a windowed view
// when the watermark passes the window's end. Records too late for every window they belong to
// are counted, and appended to the late log if there is one.
template <class T, class K, operators::Aggregation A, class Windows, class LateLog, class Sink>
class WindowAggregatePartition {
 public:
  static constexpr bool kEmitsOnWatermark = true;
  using Output = typename A::Output;
  static_assert(
      ResultSink<Sink, std::conditional_t<StreamSink<Sink>, WindowResult<K, Output>, Output>, K>,
      "sinks follow detail::ResultSink");
  using Aggregator = operators::WindowAggregator<K, A, Windows>;
  // `name` names the state in errors (the view's name, or the job's).
  WindowAggregatePartition(A aggregate, Windows windows, std::int64_t allowed_lateness, Sink sink,
                           std::string name, LateLog late)
      : aggregate_(std::move(aggregate)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        sink_(std::move(sink)),
        view_(std::move(name)),
        late_log_(std::move(late)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    if (serving::Status s = late_log_.Open(ctx, p, attach); !s.ok()) return s;
    state_ = std::make_unique<Aggregator>(aggregate_, windows_, allowed_lateness_);
    return sink_.Open(ctx, p, attach);
  }

  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    ProcessWindows(b, slot, c, *state_, late_log_, sink_,
                   [&](std::int64_t watermark) { Emit(watermark); });
  }
  void FlushWindows(PartitionCounters& c) {
    Emit(std::numeric_limits<std::int64_t>::max());
    FinishAtEnd(sink_, c);
  }

  // The view's contents, the late count, then each open window: its start and entries.
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
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
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
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
  void Emit(std::int64_t watermark) {
    state_->AdvanceTo(watermark, [&](const K& k, const operators::Window& w, const Output& o,
                                     std::uint64_t offset) {
      if constexpr (StreamSink<Sink>) {
        sink_.Put(k, w.start, w.end - 1, WindowResult<K, Output>{k, w.start, w.end, o}, offset);
      } else {
        sink_.Put(k, w.start, w.end - 1, o, offset);
      }
    });
  }

  A aggregate_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  Sink sink_;
  std::string view_;
  LateLog late_log_;
  std::unique_ptr<Aggregator> state_;
};

// Every record at its (key, window)'s highest score (operators::WindowArgMax), emitted when the
// watermark passes the window's end as WindowResult<K, T> rows, into a stream sink. Late records
// are counted, and appended to the late log if there is one.
template <class T, class K, class Windows, class ScoreFn, class LateLog, class Sink>
class ArgMaxPartition {
 public:
  static constexpr bool kEmitsOnWatermark = true;
  static_assert(StreamSink<Sink>, "ArgMax's results go on as a stream");
  using State = operators::WindowArgMax<K, T, Windows, ScoreFn>;
  ArgMaxPartition(ScoreFn score, Windows windows, std::int64_t allowed_lateness, bool include_end,
                  Sink sink, std::string name, LateLog late)
      : score_(std::move(score)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        include_end_(include_end),
        sink_(std::move(sink)),
        name_(std::move(name)),
        late_log_(std::move(late)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    if (serving::Status s = late_log_.Open(ctx, p, attach); !s.ok()) return s;
    state_ = MakeState();
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    ProcessWindows(b, slot, c, *state_, late_log_, sink_,
                   [&](std::int64_t watermark) { Emit(watermark); });
  }
  void FlushWindows(PartitionCounters& c) {
    Emit(std::numeric_limits<std::int64_t>::max());
    FinishAtEnd(sink_, c);
  }
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
    state_->Snapshot(out);
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
    state_ = MakeState();
    if (!in.empty() && !state_->Restore(in)) return BadState(name_ + ": arg max state");
    return serving::Status::Ok();
  }

 private:
  std::unique_ptr<State> MakeState() const {
    return std::make_unique<State>(score_, windows_, allowed_lateness_, include_end_);
  }
  void Emit(std::int64_t watermark) {
    state_->AdvanceTo(watermark, [&](const K& k, const operators::Window& w, const T& record,
                                     std::uint64_t offset) {
      sink_.Put(k, w.start, state_->LastInstant(w), WindowResult<K, T>{k, w.start, w.end, record},
                offset);
    });
  }

  ScoreFn score_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  bool include_end_;
  Sink sink_;
  std::string name_;
  LateLog late_log_;
  std::unique_ptr<State> state_;
};

// No late log: late records are only counted.
struct NoLateLog {
  serving::Status Open(const JobContext&, int, bool) { return serving::Status::Ok(); }
  template <class Key, class T>
  void Put(const Key&, std::int64_t, std::int64_t, const T&, std::uint64_t) {}
  void Finish(const SlotBase&, PartitionCounters&) {}
};

// Late records appended to a log as they are, each partition with its own producer (in log order
// within a key; at-least-once across a restore, as every log sink). Their count is the job's late
// count, not its results.
template <Record T>
class LateLogSink {
 public:
  LateLogSink(std::string log, memlog::CreateOptions create)
      : path_(std::move(log)), create_(create) {}
  LateLogSink(const LateLogSink& o) : path_(o.path_), create_(o.create_) {}
  serving::Status Open(const JobContext&, int, bool) {
    return OpenLogForAppend<T>(path_, create_, &log_, &producer_);
  }
  template <class Key>
  void Put(const Key&, std::int64_t, std::int64_t time, const T& record, std::uint64_t) {
    views_.push_back(
        memlog::RecordView{std::as_bytes(std::span(&record, 1)), RecordType<T>::kLogType, time});
  }
  void Finish(const SlotBase&, PartitionCounters& c) {
    if (views_.empty()) return;
    if (const memlog::AppendResult r = AppendAll(*producer_, views_);
        r != memlog::AppendResult::kOk)
      FailPartition(
          c, "cannot append late records to log " + path_ + ": " + memlog::AppendResultName(r));
    views_.clear();
  }

 private:
  std::string path_;
  memlog::CreateOptions create_;
  std::unique_ptr<memlog::Log> log_;
  std::unique_ptr<memlog::Producer> producer_;
  std::vector<memlog::RecordView> views_;  // point into the slot's sub-batch until Finish
};

// An aggregate per key and session: a key's records closer than the gap in event time. A
// session's result is emitted when the watermark passes its end, and again if a late record
// (within the allowed lateness) changes it. Into a keyed view, each key's latest session
// (session_start, session_end, the aggregate's fields); into a list, every emission with its key.
template <class T, class K, operators::Aggregation A, class Sink>
class SessionAggregatePartition {
 public:
  static constexpr bool kEmitsOnWatermark = true;
  using Output = typename A::Output;
  using Aggregator = operators::SessionAggregator<K, A>;
  SessionAggregatePartition(A aggregate, std::int64_t gap, std::int64_t allowed_lateness, Sink sink)
      : aggregate_(std::move(aggregate)),
        gap_(gap),
        allowed_lateness_(allowed_lateness),
        sink_(std::move(sink)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    state_ = std::make_unique<Aggregator>(aggregate_, gap_, allowed_lateness_);
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    std::uint64_t late = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
      late +=
          state_->Add(b.keys[i], b.records[i], b.times[i], b.offsets[i], b.watermarks[i]) ? 0 : 1;
    Emit(slot.watermark);
    sink_.Finish(slot, c);
    c.late.fetch_add(late, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters& c) {
    Emit(std::numeric_limits<std::int64_t>::max());
    FinishAtEnd(sink_, c);
  }
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
    state_->Snapshot(out);
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
    state_ = std::make_unique<Aggregator>(aggregate_, gap_, allowed_lateness_);
    if (!in.empty() && !state_->Restore(in)) return BadState("session state");
    return serving::Status::Ok();
  }

 private:
  void Emit(std::int64_t watermark) {
    state_->AdvanceTo(watermark, [&](const K& k, const operators::Window& w, const Output& o,
                                     std::uint64_t offset) {
      const SessionResult<Output> r{w.start, w.end, o};
      if constexpr (StreamSink<Sink>) {
        sink_.Put(k, w.start, w.end - 1, WindowResult<K, Output>{k, w.start, w.end, o}, offset);
      } else if constexpr (std::is_same_v<Sink, KeyedViewSink<K, SessionResult<Output>>>) {
        sink_.PutUnlessNewer(k, r, offset);
      } else {
        sink_.Put(k, w.start, w.end - 1, KeyedResult<K, SessionResult<Output>>{k, r}, offset);
      }
    });
  }

  A aggregate_;
  std::int64_t gap_;
  std::int64_t allowed_lateness_;
  Sink sink_;
  std::unique_ptr<Aggregator> state_;
};

// The records of a stream as they are, into a list or a log (one partition).
template <class T, class K, class Sink>
class StreamPartition {
  static_assert(ResultSink<Sink, T, K>, "sinks follow detail::ResultSink");

 public:
  explicit StreamPartition(Sink sink) : sink_(std::move(sink)) {}
  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    for (std::size_t i = 0; i < b.size(); ++i)
      sink_.Put(0, 0, b.times[i], b.records[i], b.offsets[i]);
    sink_.Finish(slot, c);
  }
  void FlushWindows(PartitionCounters&) {}
  void Snapshot(std::string* out) { sink_.Snapshot(out); }
  serving::Status Restore(std::string_view in) { return sink_.Restore(in); }

 private:
  Sink sink_;
};

// ---- The plan ----

// A stage's partitions emit results when the watermark passes (windows, sessions, joins until a
// deadline), or as records come (running aggregates, stream–table joins, stateless steps).
template <class Part>
constexpr bool EmitsOnWatermark() {
  if constexpr (requires { Part::kEmitsOnWatermark; }) {
    return Part::kEmitsOnWatermark;
  } else {
    return false;
  }
}

// The source of a plan: records of type In from the job's log, with their event time.
template <class In_, class TimeFn_>
struct LogSource {
  using In = In_;
  using TimeFn = TimeFn_;
  std::string name;  // the job's
  std::string log;
  SourceOptions options;
  TimeFn time;
  std::int64_t max_out_of_orderness = 0;
};

// One keyed stage of a plan: its input records (In: the source's, or the stage before's
// results) go through Chain to records of type T, are split into partitions by KeyFn, and each
// partition's Part processes them. Out is what Part emits for the next stage through its
// Outbox; void for the last stage, whose Part writes a sink.
template <class In_, class T_, class Chain, class KeyFn, class Part_, class Out_>
struct Stage {
  using In = In_;
  using T = T_;
  using K = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  using Part = Part_;
  using Out = Out_;
  using MakePart = std::function<std::unique_ptr<Part>(int partition, Outbox<Out>* box)>;
  static_assert(Partition<Part, T, K>, "a stage's partitions follow detail::Partition");
  Chain chain;
  KeyFn key;
  MakePart make_part;
  bool single_partition = false;  // one partition (one writer: a list, a log, a top-K)
};

// Each partition's results of a slot, for the stage after.
template <class Out>
struct Emitted {
  std::vector<operators::Batch<Out>> parts;
};
template <>
struct Emitted<void> {};

// The plan of a pipeline: a source and one or more keyed stages, each stage's results the next
// one's records, in one slot: the runtime splits and processes stage after stage (the slots of a
// stage in log order), so that a checkpoint between slots holds every stage's state at one log
// position, and exactly-once holds for the whole pipeline.
//
// A stage reads the results of the one before from all its partitions, in an order that does
// not depend on how the log was cut into batches: results released by the watermark by event
// time, then log offset; results of records by log offset; then by partition.
template <class Source, class... Stages>
class TypedPlan final : public JobPlan {
 public:
  using In = typename Source::In;
  static constexpr std::size_t kStages = sizeof...(Stages);
  template <std::size_t I>
  using StageAt = std::tuple_element_t<I, std::tuple<Stages...>>;

  TypedPlan(Source source, std::tuple<Stages...> stages, JobContext ctx, std::size_t batch_records)
      : source_(std::move(source)),
        bound_(source_.max_out_of_orderness),
        batch_records_(batch_records),
        stages_(std::apply(
            [&](auto&... s) {
              return std::tuple<StageParts<Stages>...>(StageParts<Stages>(std::move(s), ctx)...);
            },
            stages)),
        counters_(MostPartitions(stages_)) {}

  const std::string& name() const override { return source_.name; }
  int partitions() const override { return static_cast<int>(counters_.size()); }
  int stages() const override { return static_cast<int>(kStages); }
  int partitions(int stage) const override {
    int n = 0;
    AtStage(stage, [&](auto I) { n = std::get<I>(stages_).ctx.partitions; });
    return n;
  }

  serving::Status Open(bool attach) override {
    serving::Status status = serving::Status::Ok();
    ForEachStage([&](auto I) {
      auto& s = std::get<I>(stages_);
      s.boxes.resize(static_cast<std::size_t>(s.ctx.partitions));  // (pointers into it are kept)
      for (int p = 0; p < s.ctx.partitions && status.ok(); ++p) {
        s.parts.push_back(s.spec.make_part(p, &s.boxes[static_cast<std::size_t>(p)]));
        status = s.parts.back()->Open(s.ctx, p, attach);
      }
    });
    if (status.ok() && kStages > 1) flush_slot_ = NewSlot();
    return status;
  }

  // One stage: each partition's state as it is. Several: in each partition's part of the
  // checkpoint, the state of each stage that has the partition, each with its length.
  void Snapshot(JobState* out) override {
    out->max_time = max_time_;
    out->watermark = watermark_;
    out->partitions.assign(counters_.size(), std::string());
    ForEachStage([&](auto I) {
      auto& s = std::get<I>(stages_);
      for (std::size_t p = 0; p < s.parts.size(); ++p) {
        if constexpr (kStages == 1) {
          s.parts[p]->Snapshot(&out->partitions[p]);
        } else {
          std::string state;
          s.parts[p]->Snapshot(&state);
          PutBytes(out->partitions[p], state);
        }
      }
    });
  }

  serving::Status Restore(const JobState& c) override {
    if (!c.partitions.empty() && c.partitions.size() != counters_.size())
      return serving::Status::Error(
          serving::StatusCode::kInvalidArgument,
          "job " + source_.name + ": its checkpoint has " + std::to_string(c.partitions.size()) +
              " partitions, the engine " + std::to_string(counters_.size()));
    std::vector<std::string_view> rest(counters_.size());
    for (std::size_t p = 0; p < c.partitions.size(); ++p) rest[p] = c.partitions[p];
    serving::Status status = serving::Status::Ok();
    ForEachStage([&](auto I) {
      auto& s = std::get<I>(stages_);
      for (std::size_t p = 0; p < s.parts.size() && status.ok(); ++p) {
        std::string_view state = rest[p];
        if constexpr (kStages > 1) {
          if (!rest[p].empty() && !TakeBytes(rest[p], &state)) {
            status = BadState("job " + source_.name);
            return;
          }
        }
        status = s.parts[p]->Restore(state);
      }
    });
    if (!status.ok()) return status;
    max_time_ = c.partitions.empty() ? std::numeric_limits<std::int64_t>::min() : c.max_time;
    watermark_ = c.partitions.empty() ? std::numeric_limits<std::int64_t>::min() : c.watermark;
    return serving::Status::Ok();
  }

  void CountLatencyFrom(std::uint64_t offset) override { live_from_ = offset; }

  void ResumeAt(std::uint64_t offset) override {
    for (PartitionCounters& c : counters_)
      c.applied_offset.store(offset, std::memory_order_release);
  }

  std::unique_ptr<SlotBase> NewSlot() override {
    auto slot = std::make_unique<Slot>();
    slot->source.reserve(batch_records_);
    ForEachStage([&](auto I) {
      auto& r = std::get<I>(slot->stages);
      const auto parts = static_cast<std::size_t>(std::get<I>(stages_).ctx.partitions);
      r.out.reserve(batch_records_);
      r.parts.resize(parts);
      for (auto& part : r.parts) part.reserve(batch_records_ / parts + 16);
      if constexpr (!std::is_void_v<typename StageAt<I>::Out>) r.emitted.parts.resize(parts);
    });
    return slot;
  }

  void Decode(const memlog::RecordBatch& records, SlotBase* base) override {
    auto* slot = static_cast<Slot*>(base);
    operators::Batch<In>& b = slot->source;
    b.clear();
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    std::uint64_t live = 0;
    std::uint64_t malformed = 0;
    std::int64_t max_time = max_time_;
    std::int64_t watermark = watermark_;
    slot->watermark_before = watermark_;
    for (const memlog::Record& r : records) {
      In rec;
      const SourceRead read = SourceCodec<In>::Read(r, &rec);
      if (read != SourceRead::kOk) {
        if (read == SourceRead::kMalformed) ++malformed;
        continue;
      }
      if (r.offset >= live_from_) {
        oldest = std::min(oldest, r.timestamp_ns);
        ++live;
      }
      const std::int64_t t = EventTimeOf(source_.time, rec, r.timestamp_ns);
      b.push_back(rec, r.offset, t);
      b.watermarks.push_back(watermark);
      if (t > max_time) {
        max_time = t;
        watermark = SaturatingSub(t, bound_);
      }
    }
    slot->end_offset = records.end_offset();
    slot->watermark = watermark;
    slot->max_time = max_time;
    slot->malformed = malformed;
    slot->records_in = b.size();
    slot->oldest_append_ns = oldest;
    slot->live_records = live;
  }

  void Accept(SlotBase* slot) override {
    max_time_ = slot->max_time;
    watermark_ = slot->watermark;
    if (slot->malformed) malformed_.fetch_add(slot->malformed, std::memory_order_relaxed);
  }

  // The first stage's chain, on the source records.
  void Transform(SlotBase* base) override {
    auto* slot = static_cast<Slot*>(base);
    const operators::Batch<In>& in = slot->source;
    auto& out = std::get<0>(slot->stages).out;
    out.clear();
    const auto& chain = std::get<0>(stages_).spec.chain;
    for (std::size_t i = 0; i < in.size(); ++i) {
      chain(in.records[i], [&](const typename StageAt<0>::T& t) {
        out.records.push_back(t);
        out.offsets.push_back(in.offsets[i]);
        out.times.push_back(in.times[i]);
        out.watermarks.push_back(in.watermarks[i]);
      });
    }
  }

  void Split(int stage, SlotBase* base) override {
    AtStage(stage, [&](auto I) { SplitStage<I>(static_cast<Slot*>(base)); });
  }

  void Process(int stage, int p, SlotBase* base) override {
    AtStage(stage, [&](auto I) { ProcessStage<I>(p, static_cast<Slot*>(base)); });
  }

  // Each stage in turn: the results the stage before let out at the end go through it, then its
  // own open windows are emitted.
  void FlushWindows() override {
    Slot* f = static_cast<Slot*>(flush_slot_.get());
    if (f) {
      f->end_offset = counters_[0].applied_offset.load(std::memory_order_relaxed);
      f->watermark = std::numeric_limits<std::int64_t>::max();
      f->watermark_before = watermark_;
      f->live_records = 0;
    }
    ForEachStage([&](auto I) {
      auto& s = std::get<I>(stages_);
      for (int p = 0; p < s.ctx.partitions; ++p) {
        if (f) OpenOutbox<I>(p, f);
        if constexpr (I > 0) {
          if (p == 0) SplitStage<I>(f);
          s.parts[static_cast<std::size_t>(p)]->Process(
              std::get<I>(f->stages).parts[static_cast<std::size_t>(p)], *f,
              counters_[static_cast<std::size_t>(p)]);
        }
        s.parts[static_cast<std::size_t>(p)]->FlushWindows(counters_[static_cast<std::size_t>(p)]);
      }
    });
  }

  const PartitionCounters& counters(int p) const override {
    return counters_[static_cast<std::size_t>(p)];
  }
  std::uint64_t malformed() const override { return malformed_.load(std::memory_order_relaxed); }

 private:
  // A slot's records at one stage.
  template <class S>
  struct StageRecords {
    operators::Batch<typename S::T> out;  // after the stage's chain
    std::vector<SubBatch<typename S::T, typename S::K>> parts;
    Emitted<typename S::Out> emitted;
  };
  struct Slot : SlotBase {
    operators::Batch<In> source;
    std::int64_t watermark_before = operators::kNoWatermark;  // the plan's, before the slot
    std::tuple<StageRecords<Stages>...> stages;
  };
  // A stage's partitions.
  template <class S>
  struct StageParts {
    StageParts(S s, JobContext c) : spec(std::move(s)), ctx(c) {
      if (spec.single_partition) ctx.partitions = 1;
    }
    S spec;
    JobContext ctx;  // with the stage's partitions
    std::vector<std::unique_ptr<typename S::Part>> parts;
    std::vector<Outbox<typename S::Out>> boxes;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> order;  // SplitStage's (its thread's)
  };

  static std::size_t MostPartitions(const std::tuple<StageParts<Stages>...>& stages) {
    int most = 1;
    ForEachStage([&](auto I) { most = std::max(most, std::get<I>(stages).ctx.partitions); });
    return static_cast<std::size_t>(most);
  }

  template <class F>
  static void ForEachStage(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::index_sequence_for<Stages...>{});
  }
  template <class F>
  static void AtStage(int stage, F&& f) {
    ForEachStage([&](auto I) {
      if (static_cast<int>(I) == stage) f(I);
    });
  }

  // Stage I's partition p emits into the slot's batch for it.
  template <std::size_t I>
  void OpenOutbox(int p, Slot* slot) {
    if constexpr (!std::is_void_v<typename StageAt<I>::Out>) {
      auto& emitted = std::get<I>(slot->stages).emitted.parts[static_cast<std::size_t>(p)];
      emitted.clear();
      Outbox<typename StageAt<I>::Out>& box =
          std::get<I>(stages_).boxes[static_cast<std::size_t>(p)];
      box.batch = &emitted;
      box.watermark = slot->watermark_before;
    }
  }

  // The records of the stage before (its partitions' results) through stage I's chain.
  template <std::size_t I>
  void Gather(Slot* slot) {
    using Prev = StageAt<I - 1>;
    auto& s = std::get<I>(stages_);
    auto& out = std::get<I>(slot->stages).out;
    out.clear();
    const auto& from = std::get<I - 1>(slot->stages).emitted.parts;
    auto take = [&](const operators::Batch<typename Prev::Out>& b, std::size_t i) {
      s.spec.chain(b.records[i], [&](const typename StageAt<I>::T& t) {
        out.records.push_back(t);
        out.offsets.push_back(b.offsets[i]);
        out.times.push_back(b.times[i]);
        out.watermarks.push_back(b.watermarks[i]);
      });
    };
    if (from.size() == 1) {
      for (std::size_t i = 0; i < from[0].size(); ++i) take(from[0], i);
      return;
    }
    s.order.clear();
    for (std::uint32_t p = 0; p < from.size(); ++p)
      for (std::uint32_t i = 0; i < from[p].size(); ++i) s.order.emplace_back(p, i);
    std::stable_sort(s.order.begin(), s.order.end(), [&](const auto& a, const auto& b) {
      const auto& x = from[a.first];
      const auto& y = from[b.first];
      if constexpr (EmitsOnWatermark<typename Prev::Part>()) {
        if (x.times[a.second] != y.times[b.second]) return x.times[a.second] < y.times[b.second];
      }
      return x.offsets[a.second] < y.offsets[b.second];
    });
    for (const auto& [p, i] : s.order) take(from[p], i);
  }

  template <std::size_t I>
  void SplitStage(Slot* slot) {
    if constexpr (I > 0) Gather<I>(slot);
    auto& s = std::get<I>(stages_);
    auto& r = std::get<I>(slot->stages);
    const auto count = static_cast<std::uint32_t>(s.ctx.partitions);
    for (auto& part : r.parts) part.clear();
    for (std::size_t i = 0; i < r.out.size(); ++i) {
      const auto k = s.spec.key(r.out.records[i]);
      auto& part = r.parts[count == 1 ? 0 : ShardOfKey(k, count)];
      part.records.push_back(r.out.records[i]);
      part.offsets.push_back(r.out.offsets[i]);
      part.times.push_back(r.out.times[i]);
      part.watermarks.push_back(r.out.watermarks[i]);
      part.keys.push_back(k);
    }
  }

  template <std::size_t I>
  void ProcessStage(int p, Slot* slot) {
    auto& s = std::get<I>(stages_);
    const auto pi = static_cast<std::size_t>(p);
    PartitionCounters& c = counters_[pi];
    auto& part = std::get<I>(slot->stages).parts[pi];
    OpenOutbox<I>(p, slot);
    s.parts[pi]->Process(part, *slot, c);
    std::uint64_t live = 0;  // the partition's share of the batch's live records (the rest were
                             // replayed)
    if constexpr (I == 0) {
      if (!part.empty() && slot->live_records > 0)
        live = std::min<std::uint64_t>(
            part.size(),
            std::max<std::uint64_t>(1, part.size() * slot->live_records /
                                           std::max<std::uint64_t>(1, slot->records_in)));
      c.replayed.fetch_add(part.size() - live, std::memory_order_relaxed);
      c.records.fetch_add(part.size(), std::memory_order_relaxed);
      c.watermark.store(slot->watermark, std::memory_order_relaxed);
    }
    if constexpr (I == kStages - 1) {
      if constexpr (kStages > 1) {
        if (slot->live_records > 0)
          live = std::max<std::uint64_t>(
              1, slot->live_records / static_cast<std::uint64_t>(s.ctx.partitions));
      }
      if (live > 0) {
        timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        c.latency.Record(ts.tv_sec * 1'000'000'000LL + ts.tv_nsec - slot->oldest_append_ns, live);
      }
      // A partition that failed (a sink refused a result) applies nothing more: its offset stays
      // before the loss, so that neither a cursor nor "caught up" passes it. The last stage's
      // partition p applies for every partition q = p (mod its count) of the stages before.
      for (std::size_t q = pi; q < counters_.size();
           q += static_cast<std::size_t>(s.ctx.partitions)) {
        if (!counters_[q].failed.load(std::memory_order_relaxed))
          counters_[q].applied_offset.store(slot->end_offset, std::memory_order_release);
      }
    }
  }

  Source source_;
  std::int64_t bound_;
  std::size_t batch_records_;
  std::tuple<StageParts<Stages>...> stages_;
  std::vector<PartitionCounters> counters_;
  std::unique_ptr<SlotBase> flush_slot_;  // (several stages) FlushWindows's
  std::atomic<std::uint64_t> malformed_{0};
  // Decode's (one thread).
  std::int64_t max_time_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t watermark_ = std::numeric_limits<std::int64_t>::min();
  std::uint64_t live_from_ = 0;  // CountLatencyFrom's offset
};

}  // namespace detail
}  // namespace kappa::engine
