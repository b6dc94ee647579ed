// Joins: two keyed streams of one log, or a keyed stream and a serving view, met per key in the
// partition that owns the key.
//
// Two streams of one log run as one pipeline whose source record is an Either of the two
// source types: each log record is read once, in log order, with one event-time clock (the
// watermark trails the largest event time of either side by the larger of their bounds); each
// side's stateless steps and key run on its own records; a partition sees both sides' records
// of its keys interleaved in log order. So a join's result depends only on the log: a replay
// gives the same results, and checkpoints make them exactly-once like any other operator's.
//
//   TableJoinPartition    each left record meets the latest right record with its key, as of
//                         its place in the log (a stream–table join: operators::TableJoin)
//   RegularJoinPartition  both sides kept within a retention (operators::RegularJoin)
//   WindowJoinPartition   left and right records of one key in one event-time window meet when
//                         the watermark passes the window's end (operators::WindowJoin)
//   UntilJoinPartition    each left record keeps the best right record of its key until its
//                         deadline (operators::UntilJoin)
//   ViewJoinPartition     each record meets the current row of a serving view with its key (a
//                         lookup in another job's results; it depends on when it runs, so a
//                         replay may see other rows)
//
// The state machines are the operators' (plain C++ with their own tests); the partitions here
// adapt them to the engine: sub-batches in, results to the sink, their state in checkpoints.
//
// The join's function decides what comes out: select(left, right) returns the result record;
// returning std::optional<Out> drops the pairs it returns no value for; a select that takes
// `const Right*` instead of `const Right&` is a left outer join (nullptr: no match).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/detail/contracts.h"
#include "engine/detail/sinks.h"
#include "engine/detail/typed_plan.h"
#include "operators/regular_join.h"
#include "operators/table_join.h"
#include "operators/until_join.h"
#include "operators/window.h"
#include "operators/window_join.h"
#include "serving/view_reader.h"

namespace kappa::engine::detail {

// A record of one of two types: the left one, the right one, or (when both sides read the same
// type) both.
template <class A, class B>
struct Either {
  enum Side : std::uint8_t { kLeft, kRight, kBoth };

  alignas(std::max(alignof(A), alignof(B))) std::byte bytes[std::max(sizeof(A), sizeof(B))];
  Side side;

  static Either Left(const A& a) {
    Either e;
    std::memcpy(e.bytes, &a, sizeof a);
    e.side = kLeft;
    return e;
  }
  static Either Right(const B& b) {
    Either e;
    std::memcpy(e.bytes, &b, sizeof b);
    e.side = kRight;
    return e;
  }
  // REQUIRES: side != kRight (left) or != kLeft (right).
  const A& left() const { return *std::launder(reinterpret_cast<const A*>(bytes)); }
  const B& right() const { return *std::launder(reinterpret_cast<const B*>(bytes)); }
};

template <class A, class B>
struct SourceCodec<Either<A, B>> {
  static_assert(!kIsWithTail<A> && !kIsWithTail<B>, "a join's sides read records without tails");
  static_assert(std::is_same_v<A, B> || RecordType<A>::kLogType != RecordType<B>::kLogType,
                "the two sides of a join read different record types from the log: give them "
                "different kLogType");
  using E = Either<A, B>;
  static SourceRead Read(const memlog::Record& r, E* out) {
    if (r.type == RecordType<A>::kLogType) {
      if (!PayloadFits<A>(r.payload.size())) return SourceRead::kMalformed;
      std::memcpy(out->bytes, r.payload.data(), sizeof(A));
      out->side = std::is_same_v<A, B> ? E::kBoth : E::kLeft;
      return SourceRead::kOk;
    }
    if (r.type == RecordType<B>::kLogType) {
      if (!PayloadFits<B>(r.payload.size())) return SourceRead::kMalformed;
      std::memcpy(out->bytes, r.payload.data(), sizeof(B));
      out->side = E::kRight;
      return SourceRead::kOk;
    }
    return SourceRead::kSkip;
  }
};

// Each side's event time (its own function, or the log timestamp).
template <class A, class B, class TimeA, class TimeB>
struct JoinTime {
  TimeA left;
  TimeB right;
  std::int64_t operator()(const Either<A, B>& e, std::int64_t log_time) const {
    if (e.side == Either<A, B>::kRight) return EventTimeOf(right, e.right(), log_time);
    return EventTimeOf(left, e.left(), log_time);
  }
};

// Each side's stateless steps on its own records; a record both sides read goes through both.
template <class InA, class InB, class TA, class TB, class ChainA, class ChainB>
struct JoinChain {
  ChainA left;
  ChainB right;
  template <class Next>
  void operator()(const Either<InA, InB>& in, Next&& next) const {
    using Out = Either<TA, TB>;
    if (in.side != Either<InA, InB>::kRight)
      left(in.left(), [&](const TA& t) { next(Out::Left(t)); });
    if (in.side != Either<InA, InB>::kLeft)
      right(in.right(), [&](const TB& t) { next(Out::Right(t)); });
  }
};

template <class TA, class TB, class KeyA, class KeyB>
struct JoinKey {
  KeyA left;
  KeyB right;
  auto operator()(const Either<TA, TB>& e) const {
    return e.side == Either<TA, TB>::kLeft ? left(e.left()) : right(e.right());
  }
};

// What a join's select returns: its result type, whether it may drop a pair, and whether it is a
// left outer join (takes `const Right*`).
template <class T>
struct UnwrapOptional {
  using type = T;
  static constexpr bool kOptional = false;
};
template <class T>
struct UnwrapOptional<std::optional<T>> {
  using type = T;
  static constexpr bool kOptional = true;
};

template <class Left, class Right, class Select>
struct JoinSelect {
  static constexpr bool kOuter = std::is_invocable_v<const Select&, const Left&, const Right*>;
  using Returned = std::decay_t<typename std::conditional_t<
      kOuter, std::invoke_result<const Select&, const Left&, const Right*>,
      std::invoke_result<const Select&, const Left&, const Right&>>::type>;
  using Out = typename UnwrapOptional<Returned>::type;
  static_assert(std::is_trivially_copyable_v<Out>,
                "join results are fixed-layout structs or numbers");

  // Calls emit(Out) with select's result for (left, right), unless it returned no value. An
  // inner join with no right record emits nothing.
  template <class Emit>
  static void Apply(const Select& select, const Left& l, const Right* r, Emit&& emit) {
    auto put = [&](auto&& returned) {
      if constexpr (UnwrapOptional<Returned>::kOptional) {
        if (returned) emit(*returned);
      } else {
        emit(returned);
      }
    };
    if constexpr (kOuter) {
      put(select(l, r));
    } else if (r != nullptr) {
      put(select(l, *r));
    }
  }
};

// ---- Stream–table ----

template <class TA, class TB, class K, class Select, class Sink>
class TableJoinPartition {
  static_assert(ResultSink<Sink, typename JoinSelect<TA, TB, Select>::Out, K>,
                "sinks follow detail::ResultSink");

 public:
  using Rec = Either<TA, TB>;
  TableJoinPartition(Select select, std::size_t expected_keys, Sink sink)
      : select_(std::move(select)), expected_keys_(expected_keys), sink_(std::move(sink)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    table_ = std::make_unique<operators::TableJoin<K, TB>>(expected_keys_);
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<Rec, K>& b, const SlotBase& slot, PartitionCounters& c) {
    using S = JoinSelect<TA, TB, Select>;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const Rec& rec = b.records[i];
      const K& k = b.keys[i];
      if (rec.side == Rec::kRight) {
        table_->Update(k, rec.right());
        continue;
      }
      S::Apply(select_, rec.left(), table_->Find(k),
               [&](const typename S::Out& out) { sink_.Put(k, 0, b.times[i], out, b.offsets[i]); });
    }
    sink_.Finish(slot, c);
  }
  void FlushWindows(PartitionCounters&) {}

  // The sink's part, then the table: its size and each (key, row).
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
    PutValue(*out, static_cast<std::uint64_t>(table_->size()));
    table_->ForEach([&](const K& k, const TB& row) {
      PutValue(*out, k);
      PutValue(*out, row);
    });
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
    table_ = std::make_unique<operators::TableJoin<K, TB>>(expected_keys_);
    std::uint64_t n = 0;
    if (!in.empty() && !TakeValue(in, &n)) return BadState("join table");
    for (std::uint64_t i = 0; i < n; ++i) {
      K k;
      TB row;
      if (!TakeValue(in, &k) || !TakeValue(in, &row)) return BadState("join table");
      table_->Update(k, row);
    }
    return serving::Status::Ok();
  }

 private:
  Select select_;
  std::size_t expected_keys_;
  Sink sink_;
  std::unique_ptr<operators::TableJoin<K, TB>> table_;
};

// ---- Regular (symmetric) stream–stream ----

// Both sides kept (operators::RegularJoin): each record meets the kept records of the other side
// with its key, those before it and those after it, until the watermark passes its time + the
// retention. A result has the arriving record's time and offset.
template <class TA, class TB, class K, class Select, class Sink>
class RegularJoinPartition {
  static_assert(ResultSink<Sink, typename JoinSelect<TA, TB, Select>::Out, K>,
                "sinks follow detail::ResultSink");

 public:
  using Rec = Either<TA, TB>;
  using S = JoinSelect<TA, TB, Select>;
  static_assert(!S::kOuter, "a regular join is an inner join (select takes const Right&)");
  RegularJoinPartition(Select select, std::int64_t retention, Sink sink)
      : select_(std::move(select)), retention_(retention), sink_(std::move(sink)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    join_ = std::make_unique<Join>(retention_);
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<Rec, K>& b, const SlotBase& slot, PartitionCounters& c) {
    for (std::size_t i = 0; i < b.size(); ++i) {
      const Rec& rec = b.records[i];
      const K& k = b.keys[i];
      // The watermark before each record decides what it can still meet, whatever the batches.
      join_->Expire(b.watermarks[i]);
      auto meet = [&](const TA& l, const TB& r) {
        S::Apply(select_, l, &r, [&](const typename S::Out& out) {
          sink_.Put(k, 0, b.times[i], out, b.offsets[i]);
        });
      };
      if (rec.side != Rec::kRight) join_->AddLeft(k, rec.left(), b.times[i], meet);
      if (rec.side != Rec::kLeft) join_->AddRight(k, rec.right(), b.times[i], meet);
    }
    join_->Expire(slot.watermark);  // (the next record's watermark: the same state)
    sink_.Finish(slot, c);
  }
  void FlushWindows(PartitionCounters&) {}

  // The sink's part, then the kept records in the order they came: count, then each one's key,
  // side, time and bytes.
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
    PutValue(*out, static_cast<std::uint64_t>(join_->size()));
    join_->ForEach(
        [&](const K& k, typename Join::Side side, std::int64_t time, const TA* l, const TB* r) {
          PutValue(*out, k);
          PutValue(*out, static_cast<std::uint8_t>(side));
          PutValue(*out, time);
          if (l) {
            PutValue(*out, *l);
          } else {
            PutValue(*out, *r);
          }
        });
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
    join_ = std::make_unique<Join>(retention_);
    std::uint64_t n = 0;
    if (!in.empty() && !TakeValue(in, &n)) return BadState("join state");
    for (std::uint64_t i = 0; i < n; ++i) {
      K k;
      std::uint8_t side;
      std::int64_t time;
      if (!TakeValue(in, &k) || !TakeValue(in, &side) || !TakeValue(in, &time))
        return BadState("join state");
      if (side == static_cast<std::uint8_t>(Join::Side::kLeft)) {
        TA l;
        if (!TakeValue(in, &l)) return BadState("join state");
        join_->RestoreLeft(k, l, time);
      } else {
        TB r;
        if (!TakeValue(in, &r)) return BadState("join state");
        join_->RestoreRight(k, r, time);
      }
    }
    return serving::Status::Ok();
  }

 private:
  using Join = operators::RegularJoin<K, TA, TB>;
  Select select_;
  std::int64_t retention_;
  Sink sink_;
  std::unique_ptr<Join> join_;
};

// ---- Windowed stream–stream ----

// operators::WindowJoin's state, its results to the sink: a result has its window's key, start
// and last instant as event time, and the later offset of its two records.
template <class TA, class TB, class K, class Windows, class Select, class Sink>
class WindowJoinPartition {
  using S = JoinSelect<TA, TB, Select>;
  static_assert(ResultSink<Sink, typename S::Out, K>, "sinks follow detail::ResultSink");
  using Join = operators::WindowJoin<K, TA, TB, Windows>;

 public:
  static constexpr bool kEmitsOnWatermark = true;
  using Rec = Either<TA, TB>;
  WindowJoinPartition(Select select, Windows windows, Sink sink)
      : select_(std::move(select)),
        join_(windows, S::kOuter ? operators::JoinKind::kLeftOuter : operators::JoinKind::kInner),
        sink_(std::move(sink)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    return sink_.Open(ctx, p, attach);
  }

  void Process(SubBatch<Rec, K>& b, const SlotBase& slot, PartitionCounters& c) {
    std::uint64_t late = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const Rec& rec = b.records[i];
      const bool kept =
          rec.side == Rec::kLeft
              ? join_.AddLeft(b.keys[i], b.offsets[i], rec.left(), b.times[i], b.watermarks[i])
              : join_.AddRight(b.keys[i], b.offsets[i], rec.right(), b.times[i], b.watermarks[i]);
      late += !kept;
    }
    Fire(slot.watermark);
    sink_.Finish(slot, c);
    c.late.fetch_add(late, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters& c) {
    Fire(std::numeric_limits<std::int64_t>::max());
    FinishAtEnd(sink_, c);
  }

  // The sink's part, then each open window: its start and both sides' entries.
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
    PutValue(*out, static_cast<std::uint64_t>(join_.open_windows()));
    join_.ForEach([&](std::int64_t start, std::span<const LeftEntry> left,
                      std::span<const RightEntry> right) {
      PutValue(*out, start);
      PutValue(*out, static_cast<std::uint64_t>(left.size()));
      for (const LeftEntry& e : left) PutValue(*out, e);
      PutValue(*out, static_cast<std::uint64_t>(right.size()));
      for (const RightEntry& e : right) PutValue(*out, e);
    });
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
    join_.Clear();
    std::uint64_t windows = 0;
    if (!in.empty() && !TakeValue(in, &windows)) return BadState("join windows");
    for (std::uint64_t w = 0; w < windows; ++w) {
      std::int64_t start;
      std::vector<LeftEntry> left;
      std::vector<RightEntry> right;
      if (!TakeValue(in, &start) || !TakeEntries(in, &left) || !TakeEntries(in, &right))
        return BadState("join windows");
      join_.Restore(start, std::move(left), std::move(right));
    }
    return serving::Status::Ok();
  }

 private:
  using LeftEntry = typename Join::template Entry<TA>;
  using RightEntry = typename Join::template Entry<TB>;

  template <class E>
  static bool TakeEntries(std::string_view& in, std::vector<E>* entries) {
    std::uint64_t n = 0;
    if (!TakeValue(in, &n) || n > in.size() / sizeof(E)) return false;
    entries->resize(n);
    for (E& e : *entries) {
      if (!TakeValue(in, &e)) return false;
    }
    return true;
  }

  void Fire(std::int64_t watermark) {
    join_.Fire(
        watermark,
        [&](const operators::Window& w, const K& k, const TA& l, const TB* r,
            std::uint64_t offset) {
          S::Apply(select_, l, r, [&](const typename S::Out& out) {
            sink_.Put(k, w.start, w.end - 1, out, offset);
          });
        },
        // Results go to the sink in key order, which is random in a view's table: its slots are
        // fetched a few keys ahead, so that the misses overlap.
        [&](const K& k, const operators::Window& w) { sink_.Prefetch(k, w.start); });
  }

  Select select_;
  Join join_;
  Sink sink_;
};

// ---- Stream–view ----

// The lookup side of ViewJoinPartition: view `name` in the job's namespace, read in place, its
// rows decoded as record type V (whose schema must be the view's).
template <Record V>
class ViewLookup {
 public:
  explicit ViewLookup(std::string view) : view_(std::move(view)) {}
  ViewLookup(const ViewLookup& o) : view_(o.view_) {}

  serving::Status Open(const JobContext& ctx) {
    auto r = serving::ViewReader::Open(ctx.ns->path(), view_);
    if (!r.ok())
      return serving::Status::Error(r.status().code(),
                                    "join with view " + view_ + ": " + r.status().message());
    reader_ = std::move(r).value();
    return Check();
  }
  // The view's row for `key` in `*row`; false if it has none. A view flipped to a version
  // whose rows are not V's fails the partition.
  bool Find(std::uint64_t key, V* row, PartitionCounters& c) {
    if (reader_->version() != checked_version_ || reader_->generation() != checked_generation_) {
      if (serving::Status s = Check(); !s.ok()) {
        FailPartition(c, s.message());
        return false;
      }
    }
    std::uint64_t offset;
    return reader_->Get(key, std::as_writable_bytes(std::span(row, 1)), &offset) ==
           serving::ReadStatus::kOk;
  }

 private:
  serving::Status Check() {
    auto want = RecordSchema<V>();
    if (!want.ok()) return want.status();
    const serving::Schema& have = reader_->schema();
    bool same = reader_->kind() == serving::ViewKind::kKeyed &&
                reader_->key_type() == serving::KeyType::kU64 && have.size() == want->size() &&
                have.value_size() == want->value_size();
    for (std::size_t f = 0; same && f < have.size(); ++f)
      same = have.field(f).name == want->field(f).name &&
             have.field(f).type == want->field(f).type && have.field(f).size == want->field(f).size;
    if (!same)
      return serving::Status::Error(serving::StatusCode::kInvalidArgument,
                                    "join with view " + view_ +
                                        ": it is not a keyed view with integer keys whose "
                                        "rows have the joined record's schema");
    checked_version_ = reader_->version();
    checked_generation_ = reader_->generation();
    return serving::Status::Ok();
  }

  std::string view_;
  std::unique_ptr<serving::ViewReader> reader_;
  std::uint32_t checked_version_ = 0;
  std::uint32_t checked_generation_ = 0;
};

template <class T, class K, class V, class Select, class Sink>
class ViewJoinPartition {
  static_assert(ResultSink<Sink, typename JoinSelect<T, V, Select>::Out, K>,
                "sinks follow detail::ResultSink");
  static_assert(IntegerKey<K>, "a view join looks up integer keys (the table's u64 keys)");

 public:
  ViewJoinPartition(Select select, ViewLookup<V> lookup, Sink sink)
      : select_(std::move(select)), lookup_(std::move(lookup)), sink_(std::move(sink)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    if (serving::Status s = lookup_.Open(ctx); !s.ok()) return s;
    return sink_.Open(ctx, p, attach);
  }
  void Process(SubBatch<T, K>& b, const SlotBase& slot, PartitionCounters& c) {
    using S = JoinSelect<T, V, Select>;
    for (std::size_t i = 0; i < b.size(); ++i) {
      V row;
      const bool found = lookup_.Find(ViewKeyOf(b.keys[i]), &row, c);
      S::Apply(select_, b.records[i], found ? &row : nullptr, [&](const typename S::Out& out) {
        sink_.Put(b.keys[i], 0, b.times[i], out, b.offsets[i]);
      });
    }
    sink_.Finish(slot, c);
  }
  void FlushWindows(PartitionCounters&) {}
  void Snapshot(std::string* out) { sink_.Snapshot(out); }
  serving::Status Restore(std::string_view in) { return sink_.Restore(in); }

 private:
  Select select_;
  ViewLookup<V> lookup_;
  Sink sink_;
};

// ---- What the builder keeps of a join until its sink is known ----
//
// Each (detail::JoinOperator, engine/detail/contracts.h): Out (the result type), kWindowed
// (results per window), and Make(sink), the partition with that sink.

// ---- Stream–stream until a deadline ----

// operators::UntilJoin's state (each left record keeps the best right record of its key until
// its deadline), its results to the sink: a result has the deadline as event time and the later
// offset of its two records.
template <class TA, class TB, class K, class Deadline, class Better, class Select, class Sink>
class UntilJoinPartition {
  using S = JoinSelect<TA, TB, Select>;
  static_assert(ResultSink<Sink, typename S::Out, K>, "sinks follow detail::ResultSink");
  using Join = operators::UntilJoin<K, TA, TB, Better>;

 public:
  static constexpr bool kEmitsOnWatermark = true;
  using Rec = Either<TA, TB>;
  UntilJoinPartition(Deadline deadline, Better better, Select select, Sink sink)
      : deadline_(std::move(deadline)),
        join_(std::move(better)),
        select_(std::move(select)),
        sink_(std::move(sink)) {}

  serving::Status Open(const JobContext& ctx, int p, bool attach) {
    return sink_.Open(ctx, p, attach);
  }

  void Process(SubBatch<Rec, K>& b, const SlotBase& slot, PartitionCounters& c) {
    std::uint64_t late = 0;
    auto emit = Emitter();
    for (std::size_t i = 0; i < b.size(); ++i) {
      const Rec& rec = b.records[i];
      if (rec.side == Rec::kLeft) {
        join_.AddLeft(b.keys[i], rec.left(), b.times[i], deadline_(rec.left()), b.offsets[i], emit);
      } else {
        late += !join_.AddRight(b.keys[i], rec.right(), b.times[i], b.offsets[i], b.watermarks[i]);
      }
    }
    join_.Advance(slot.watermark, emit);
    sink_.Finish(slot, c);
    c.late.fetch_add(late, std::memory_order_relaxed);
  }
  void FlushWindows(PartitionCounters& c) {
    join_.CloseAll(Emitter());
    FinishAtEnd(sink_, c);
  }

  // The sink's part, then the open left records and the right records waiting for theirs.
  void Snapshot(std::string* out) {
    sink_.Snapshot(out);
    PutValue(*out, static_cast<std::uint64_t>(join_.open()));
    join_.ForEachOpen([&](const K& k, const typename Join::Open& o) {
      PutValue(*out, k);
      PutValue(*out, o);
    });
    PutValue(*out, static_cast<std::uint64_t>(join_.waiting()));
    join_.ForEachWaiting([&](const typename Join::Early& e) { PutValue(*out, e); });
  }
  serving::Status Restore(std::string_view in) {
    if (serving::Status s = sink_.Restore(in); !s.ok()) return s;
    join_.Clear();
    std::uint64_t n = 0;
    if (!in.empty() && !TakeValue(in, &n)) return BadState("until join");
    for (std::uint64_t i = 0; i < n; ++i) {
      K k;
      typename Join::Open o;
      if (!TakeValue(in, &k) || !TakeValue(in, &o)) return BadState("until join");
      join_.RestoreOpen(k, o);
    }
    if (!in.empty() && !TakeValue(in, &n)) return BadState("until join");
    for (std::uint64_t i = 0; i < n; ++i) {
      typename Join::Early e;
      if (!TakeValue(in, &e)) return BadState("until join");
      join_.RestoreWaiting(e);
    }
    return serving::Status::Ok();
  }

 private:
  auto Emitter() {
    return [this](const K& k, const TA& left, const TB* best, std::int64_t deadline,
                  std::uint64_t offset) {
      S::Apply(select_, left, best,
               [&](const typename S::Out& out) { sink_.Put(k, 0, deadline, out, offset); });
    };
  }

  Deadline deadline_;
  Join join_;
  Select select_;
  Sink sink_;
};

template <class TA, class TB, class K, class Deadline, class Better, class Select>
struct UntilJoinOp {
  using Out = typename JoinSelect<TA, TB, Select>::Out;
  static constexpr bool kWindowed = false;
  Deadline deadline;
  Better better;
  Select select;
  template <class Sink>
  auto Make(Sink sink) const {
    return std::make_unique<UntilJoinPartition<TA, TB, K, Deadline, Better, Select, Sink>>(
        deadline, better, select, std::move(sink));
  }
};

template <class TA, class TB, class K, class Select>
struct TableJoinOp {
  using Out = typename JoinSelect<TA, TB, Select>::Out;
  static constexpr bool kWindowed = false;
  Select select;
  std::size_t expected_keys;
  template <class Sink>
  auto Make(Sink sink) const {
    return std::make_unique<TableJoinPartition<TA, TB, K, Select, Sink>>(select, expected_keys,
                                                                         std::move(sink));
  }
};

template <class TA, class TB, class K, class Select>
struct RegularJoinOp {
  using Out = typename JoinSelect<TA, TB, Select>::Out;
  static constexpr bool kWindowed = false;
  Select select;
  std::int64_t retention;
  template <class Sink>
  auto Make(Sink sink) const {
    return std::make_unique<RegularJoinPartition<TA, TB, K, Select, Sink>>(select, retention,
                                                                           std::move(sink));
  }
};

template <class TA, class TB, class K, class Windows, class Select>
struct WindowJoinOp {
  using Out = typename JoinSelect<TA, TB, Select>::Out;
  static constexpr bool kWindowed = true;
  Select select;
  Windows windows;
  template <class Sink>
  auto Make(Sink sink) const {
    return std::make_unique<WindowJoinPartition<TA, TB, K, Windows, Select, Sink>>(select, windows,
                                                                                   std::move(sink));
  }
};

template <class T, class K, class V, class Select>
struct ViewJoinOp {
  using Out = typename JoinSelect<T, V, Select>::Out;
  static constexpr bool kWindowed = false;
  Select select;
  ViewLookup<V> lookup;
  template <class Sink>
  auto Make(Sink sink) const {
    return std::make_unique<ViewJoinPartition<T, K, V, Select, Sink>>(select, lookup,
                                                                      std::move(sink));
  }
};

}  // namespace kappa::engine::detail
