// Pipelines: a source log, stateless steps, a key, a keyed operator and a sink, written in a few
// lines and compiled into a job the Engine runs.
//
//   using namespace kappa::engine;
//   using namespace std::chrono_literals;
//   Job job = From<Bid>("q5", "events")
//                 .EventTime([](const Bid& b) { return b.date_time; }, /*out of order by*/ 1s)
//                 .Filter([](const Bid& b) { return b.price > 0; })
//                 .KeyBy([](const Bid& b) { return b.auction; })
//                 .Window(operators::HoppingWindows(10s, 2s))
//                 .Aggregate(operators::Count<Bid>{})
//                 .ToView("bids_per_auction");
//
// Stateless steps (Filter, Map, FlatMap) run on batches in parallel; KeyBy partitions records so
// that each partition's state has one owner; keyed operators and sinks run per partition, in log
// order. A view sink writes one shard per partition (readers see one view).
//
// Event time: EventTime(fn, bound) takes it (nanoseconds since the epoch) from the record and
// allows `bound` of disorder (a std::chrono duration, or whole nanoseconds: the watermark trails
// the largest time seen by that much); without it, the log record's own timestamp is the event
// time and the watermark follows it exactly.
//
// Joins meet two keyed streams of one log, or a keyed stream and a serving view
// (engine/detail/joins.h says exactly how):
//
//   // Each bid with its auction, as of the bid's place in the log (stream–table).
//   Job enriched =
//       From<Bid>("bids_enriched", "events")
//           .KeyBy([](const Bid& b) { return b.auction; })
//           .Join(From<Auction>("", "events").KeyBy([](const Auction& a) { return a.id; }))
//           .Select([](const Bid& b, const Auction& a) {
//             return BidRow{b.auction, a.seller, b.price};
//           })
//           .ToView("bids_enriched");
//   // Sellers who opened an auction in the same 10 s window as they registered (windowed).
//   Job q8 = From<Person>("q8", "events")
//                .EventTime(...).KeyBy([](const Person& p) { return p.id; })
//                .WindowJoin(From<Auction>("", "events").EventTime(...).KeyBy(...),
//                            TumblingWindows(10s))
//                .Select([](const Person& p, const Auction& a) { return NewSeller{p.id, a.id}; })
//                .ToView("q8");
//   // Each auction's highest bid before it expires, once it has (until a deadline).
//   Job q9 = From<Auction>("q9", "events")
//                .EventTime(...).KeyBy([](const Auction& a) { return a.id; })
//                .JoinUntil(From<Bid>("", "events").EventTime(...).KeyBy(...),
//                           [](const Auction& a) { return a.expires; },
//                           [](const Bid& x, const Bid& best) { return x.price > best.price; })
//                .Select([](const Auction& a, const Bid& b) { return Winner{a.id, b.price}; })
//                .ToView("q9");
//
// A keyed aggregate goes to a keyed view (ToView), or, ranked, to a top-K view (ToTopK: the k
// keys whose result ranks best).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "engine/detail/joins.h"
#include "engine/detail/typed_plan.h"
#include "engine/record.h"
#include "memlog/log.h"
#include "operators/aggregate.h"
#include "operators/window.h"

namespace kappa::engine {

// Where a job starts reading its log.
struct SourceOptions {
  memlog::StartAt start = memlog::StartAt::Earliest();
  // A named durable cursor in the log: the job resumes from it (`start` applies only when it is
  // new) and commits what it has applied, so that a Block-policy log can reuse that space.
  std::string cursor;
};

// A pipeline ready to run: Engine::Start(job).
class Job {
 public:
  using PlanFactory =
      std::function<std::unique_ptr<detail::JobPlan>(const JobContext&, std::size_t batch_records)>;

  Job(std::string name, std::string log, SourceOptions source, PlanFactory make_plan,
      std::string view, std::string error = {})
      : name_(std::move(name)),
        log_(std::move(log)),
        source_(source),
        make_plan_(std::move(make_plan)),
        view_(std::move(view)),
        error_(std::move(error)) {}

  const std::string& name() const { return name_; }
  // The source log: a path, or a bare name in memlog's default directory.
  const std::string& log() const { return log_; }
  const SourceOptions& source() const { return source_; }
  // The view the job writes ("" for a job that writes a log).
  const std::string& view() const { return view_; }
  // Why the pipeline cannot run (Engine::Start refuses it with this), or "".
  const std::string& error() const { return error_; }
  std::unique_ptr<detail::JobPlan> MakePlan(const JobContext& ctx,
                                            std::size_t batch_records) const {
    return make_plan_(ctx, batch_records);
  }

 private:
  std::string name_;
  std::string log_;
  SourceOptions source_;
  PlanFactory make_plan_;
  std::string view_;
  std::string error_;
};

namespace detail {

// What every builder stage carries: the job's name, source and event-time rule.
template <class In, class TimeFn>
struct SourceSpec {
  std::string name;
  std::string log;
  SourceOptions options;
  TimeFn time;
  std::int64_t max_out_of_orderness = 0;
};

struct Identity {
  template <class In, class Next>
  void operator()(const In& in, Next&& next) const {
    next(in);
  }
};

struct NoKey {
  template <class T>
  std::uint64_t operator()(const T&) const {
    return 0;
  }
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Part,
          class MakePart>
Job MakeJob(SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, MakePart make_part,
            bool single_partition, std::string view, std::string error = {});

// The source of a join's two sides: one log read once, with each side's event time.
template <class InA, class TimeA, class InB, class TimeB>
SourceSpec<Either<InA, InB>, JoinTime<InA, InB, TimeA, TimeB>> JoinSources(
    SourceSpec<InA, TimeA> a, SourceSpec<InB, TimeB> b) {
  return {std::move(a.name), std::move(a.log), a.options,
          JoinTime<InA, InB, TimeA, TimeB>{a.time, b.time},
          std::max(a.max_out_of_orderness, b.max_out_of_orderness)};
}
inline std::string JoinError(const std::string& job, const std::string& left_log,
                             const std::string& right_log) {
  if (memlog::Log::ResolvePath(left_log) == memlog::Log::ResolvePath(right_log)) return {};
  return "job " + job + ": both sides of a join must read one log; the left reads " + left_log +
         ", the right " + right_log;
}

}  // namespace detail

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows,
          operators::Aggregation A, class LateLog>
class WindowedAggregation;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn,
          operators::Aggregation A>
class KeyedAggregation;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows,
          class LateLog>
class WindowedStream;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Op>
class JoinResults;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class MakeOp>
class JoinedStreams;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn>
class KeyedStream;

// A stream of records of type T, read from a log of In records.
template <Record In, class TimeFn, class T, class Chain>
class Stream {
 public:
  Stream(detail::SourceSpec<In, TimeFn> source, Chain chain)
      : source_(std::move(source)), chain_(std::move(chain)) {}

  // Event time from the source record, with up to `max_out_of_orderness` ns of disorder.
  // REQUIRES: no step before it (it reads the source record).
  template <class F>
  auto EventTime(F time, std::int64_t max_out_of_orderness) && {
    static_assert(std::is_same_v<T, In>, "EventTime reads the source record: call it first");
    detail::SourceSpec<In, F> s{std::move(source_.name), std::move(source_.log), source_.options,
                                std::move(time), max_out_of_orderness};
    return Stream<In, F, T, Chain>(std::move(s), std::move(chain_));
  }
  template <class F>
  auto EventTime(F time, std::chrono::nanoseconds max_out_of_orderness) && {
    return std::move(*this).EventTime(std::move(time), max_out_of_orderness.count());
  }

  // Keeps the records for which pred(record) is true.
  template <class P>
  auto Filter(P pred) && {
    auto chain = [prev = std::move(chain_), pred = std::move(pred)](const In& in, auto&& next) {
      prev(in, [&](const T& t) {
        if (pred(t)) next(t);
      });
    };
    return Stream<In, TimeFn, T, decltype(chain)>(std::move(source_), std::move(chain));
  }

  // Replaces each record by f(record) (a trivially copyable value).
  template <class F>
  auto Map(F f) && {
    using U = std::decay_t<std::invoke_result_t<F&, const T&>>;
    static_assert(std::is_trivially_copyable_v<U>, "records are fixed-layout structs");
    auto chain = [prev = std::move(chain_), f = std::move(f)](const In& in, auto&& next) {
      prev(in, [&](const T& t) { next(f(t)); });
    };
    return Stream<In, TimeFn, U, decltype(chain)>(std::move(source_), std::move(chain));
  }

  // Replaces each record by any number of records of type U: f(record, emit) calls emit(U).
  template <class U, class F>
  auto FlatMap(F f) && {
    static_assert(std::is_trivially_copyable_v<U>, "records are fixed-layout structs");
    auto chain = [prev = std::move(chain_), f = std::move(f)](const In& in, auto&& next) {
      prev(in, [&](const T& t) { f(t, [&](const U& u) { next(u); }); });
    };
    return Stream<In, TimeFn, U, decltype(chain)>(std::move(source_), std::move(chain));
  }

  // Partitions the stream by key(record), an integer.
  template <class KeyFn>
  auto KeyBy(KeyFn key) && {
    using K = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
    static_assert(std::is_integral_v<K>, "keys are integers");
    return KeyedStream<In, TimeFn, T, Chain, K, KeyFn>(std::move(source_), std::move(chain_),
                                                       std::move(key));
  }

  // Appends every record (a registered Record type) to a result list view that keeps the last
  // `capacity` rows.
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16) && {
    static_assert(Record<T>, "list rows are registered records (RecordType<T>)");
    using Part = detail::StreamPartition<T, std::uint64_t, detail::ListSink<T>>;
    auto make_part = [view, capacity](int) {
      return std::make_unique<Part>(detail::ListSink<T>(view, capacity));
    };
    return detail::MakeJob<In, TimeFn, T, Chain, std::uint64_t, detail::NoKey, Part>(
        std::move(source_), std::move(chain_), detail::NoKey{}, std::move(make_part),
        /*single_partition=*/true, view);
  }

  // Appends every record (a registered Record type, with its kLogType) to another log, created
  // with `create` if it does not exist: a derived stream that another pipeline can read.
  Job ToLog(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<T>, "log records are registered records (RecordType<T>)");
    using Part = detail::StreamPartition<T, std::uint64_t, detail::LogSink<T>>;
    auto make_part = [log, create](int) {
      return std::make_unique<Part>(detail::LogSink<T>(log, create));
    };
    return detail::MakeJob<In, TimeFn, T, Chain, std::uint64_t, detail::NoKey, Part>(
        std::move(source_), std::move(chain_), detail::NoKey{}, std::move(make_part),
        /*single_partition=*/true, "");
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
};

// The start of every pipeline: records of type In from `log`.
template <Record In>
Stream<In, detail::LogTimestamp, In, detail::Identity> From(std::string job_name, std::string log,
                                                            SourceOptions options = {}) {
  return Stream<In, detail::LogTimestamp, In, detail::Identity>(
      detail::SourceSpec<In, detail::LogTimestamp>{
          std::move(job_name), std::move(log), options, {}, 0},
      detail::Identity{});
}

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn>
class KeyedStream {
 public:
  KeyedStream(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key)
      : source_(std::move(source)), chain_(std::move(chain)), key_(std::move(key)) {}

  // A running aggregate per key.
  template <operators::Aggregation A>
  auto Aggregate(A aggregate) && {
    static_assert(std::is_same_v<typename A::Input, T>,
                  "the aggregation's Input is the stream's record");
    return KeyedAggregation<In, TimeFn, T, Chain, K, KeyFn, A>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(aggregate));
  }

  // Event-time windows: operators::TumblingWindows, HoppingWindows or SessionWindows. Records
  // later than `allowed_lateness` ns after their window's end are dropped and counted; a window
  // a late record changes is emitted again.
  template <class Windows>
  auto Window(Windows windows, std::int64_t allowed_lateness = 0) && {
    return WindowedStream<In, TimeFn, T, Chain, K, KeyFn, Windows, detail::NoLateLog>(
        std::move(source_), std::move(chain_), std::move(key_), windows, allowed_lateness, {});
  }
  template <class Windows>
  auto Window(Windows windows, std::chrono::nanoseconds allowed_lateness) && {
    return std::move(*this).Window(windows, allowed_lateness.count());
  }

  // Stream–table join: each record of this stream meets the latest record of `table` (another
  // keyed stream of the same log, with keys of the same type) with its key, as of its place in
  // the log. Select(fn) then says what comes out. The table is kept per partition
  // (`expected_keys` sizes it) and checkpointed with the job.
  template <class RIn, class RTime, class RT, class RChain, class RKeyFn>
  auto Join(KeyedStream<RIn, RTime, RT, RChain, K, RKeyFn> table,
            std::size_t expected_keys = 1 << 16) && {
    return std::move(*this).Combine(std::move(table), [expected_keys]<class Select>(Select select) {
      return detail::TableJoinOp<T, RT, K, Select>{std::move(select), expected_keys};
    });
  }

  // Windowed stream–stream join: records of this stream and of `other` (another keyed stream of
  // the same log) with one key in one event-time window (tumbling or hopping) meet once the
  // watermark passes the window's end; records too late for every window are counted.
  template <class RIn, class RTime, class RT, class RChain, class RKeyFn, class Windows>
  auto WindowJoin(KeyedStream<RIn, RTime, RT, RChain, K, RKeyFn> other, Windows windows) && {
    static_assert(!std::is_same_v<Windows, operators::SessionWindows>,
                  "window joins take tumbling or hopping windows");
    return std::move(*this).Combine(std::move(other), [windows]<class Select>(Select select) {
      return detail::WindowJoinOp<T, RT, K, Windows, Select>{std::move(select), windows};
    });
  }

  // Stream–stream join until a deadline: each record of this stream (an auction) collects the
  // records of `other` (its bids: another keyed stream of the same log) with its key and an
  // event time from its own to deadline(record), keeping the best by better(a, b) ("a beats
  // b"); once the watermark passes the deadline, Select(record, best) comes out, keyed by the
  // key. Results go to a keyed view, a list or a log.
  template <class RIn, class RTime, class RT, class RChain, class RKeyFn, class DeadlineFn,
            class BetterFn>
  auto JoinUntil(KeyedStream<RIn, RTime, RT, RChain, K, RKeyFn> other, DeadlineFn deadline,
                 BetterFn better) && {
    return std::move(*this).Combine(
        std::move(other), [deadline, better]<class Select>(Select select) {
          return detail::UntilJoinOp<T, RT, K, DeadlineFn, BetterFn, Select>{deadline, better,
                                                                             std::move(select)};
        });
  }

  // Stream–view join: each record meets the row with its key in keyed view `view` of the
  // engine's namespace (another job's results, say), read in place, decoded as record type V
  // (the view's schema must be V's). A lookup sees the view as it is when the record is
  // processed, so a replay may meet other rows.
  template <Record V>
  auto JoinView(std::string view) && {
    auto make_op = [lookup = detail::ViewLookup<V>(std::move(view))]<class Select>(Select select) {
      return detail::ViewJoinOp<T, K, V, Select>{std::move(select), lookup};
    };
    return JoinedStreams<In, TimeFn, T, Chain, K, KeyFn, decltype(make_op)>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(make_op), "");
  }

 private:
  template <class, class, class, class, class, class>
  friend class KeyedStream;

  // This stream (left) and `other` (right) as one pipeline over their log.
  template <class RIn, class RTime, class RT, class RChain, class RKeyFn, class MakeOp>
  auto Combine(KeyedStream<RIn, RTime, RT, RChain, K, RKeyFn> other, MakeOp make_op) && {
    using CIn = detail::Either<In, RIn>;
    using CT = detail::Either<T, RT>;
    using CTime = detail::JoinTime<In, RIn, TimeFn, RTime>;
    using CChain = detail::JoinChain<In, RIn, T, RT, Chain, RChain>;
    using CKey = detail::JoinKey<T, RT, KeyFn, RKeyFn>;
    std::string error = detail::JoinError(source_.name, source_.log, other.source_.log);
    return JoinedStreams<CIn, CTime, CT, CChain, K, CKey, MakeOp>(
        detail::JoinSources(std::move(source_), std::move(other.source_)),
        CChain{std::move(chain_), std::move(other.chain_)},
        CKey{std::move(key_), std::move(other.key_)}, std::move(make_op), std::move(error));
  }

  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
};

// A join waiting for its select function.
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class MakeOp>
class JoinedStreams {
 public:
  JoinedStreams(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, MakeOp make_op,
                std::string error)
      : source_(std::move(source)),
        chain_(std::move(chain)),
        key_(std::move(key)),
        make_op_(std::move(make_op)),
        error_(std::move(error)) {}

  // What a meeting pair gives: select(left, right) returns the result (a registered record, or a
  // number for a view); returning std::optional<Result> drops the pairs it gives no value for;
  // taking `const Right*` makes a left outer join (nullptr: nothing met).
  template <class F>
  auto Select(F select) && {
    auto op = make_op_(std::move(select));
    return JoinResults<In, TimeFn, T, Chain, K, KeyFn, decltype(op)>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(op), std::move(error_));
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  MakeOp make_op_;
  std::string error_;
};

// A join's results, waiting for their sink.
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Op>
class JoinResults {
 public:
  using Out = typename Op::Out;
  JoinResults(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, Op op,
              std::string error)
      : source_(std::move(source)),
        chain_(std::move(chain)),
        key_(std::move(key)),
        op_(std::move(op)),
        error_(std::move(error)) {}

  // Into a view, one shard per partition: a window join's into a windowed view (each key's
  // result per window), other joins' into a keyed view (each key's latest result). Where several
  // pairs meet under one key (and window), the last one in log order stays.
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    if constexpr (Op::kWindowed) {
      const auto windows = op_.windows;
      return std::move(*this).Finish(
          [view, options, windows] {
            return detail::WindowedViewSink<Out>(view, options, windows.size(), windows.slide());
          },
          false, view);
    } else {
      return std::move(*this).Finish(
          [view, options] { return detail::KeyedViewSink<Out>(view, options); }, false, view);
    }
  }
  // Every result, appended to a result list view (the join then runs in one partition).
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16) && {
    static_assert(Record<Out>, "list rows are registered records (RecordType<T>)");
    return std::move(*this).Finish(
        [view, capacity] { return detail::ListSink<Out>(view, capacity); }, true, view);
  }
  // Every result, appended to another log (the join then runs in one partition).
  Job ToLog(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<Out>, "log records are registered records (RecordType<T>)");
    return std::move(*this).Finish([log, create] { return detail::LogSink<Out>(log, create); },
                                   true, "");
  }

 private:
  template <class MakeSink>
  Job Finish(MakeSink make_sink, bool single_partition, std::string view) && {
    using Part = typename decltype(op_.Make(make_sink()))::element_type;
    auto make_part = [op = op_, make_sink](int) { return op.Make(make_sink()); };
    return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(make_part),
        single_partition, std::move(view), std::move(error_));
  }

  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  Op op_;
  std::string error_;
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows,
          class LateLog>
class WindowedStream {
 public:
  WindowedStream(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, Windows windows,
                 std::int64_t allowed_lateness, LateLog late)
      : source_(std::move(source)),
        chain_(std::move(chain)),
        key_(std::move(key)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        late_(std::move(late)) {}

  // Also appends each late record (a registered record type) to log `log`, created with
  // `create` if it does not exist (at-least-once, as every log a job writes).
  auto LateTo(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<T>, "late records go to a log as registered records (RecordType<T>)");
    static_assert(!std::is_same_v<Windows, operators::SessionWindows>,
                  "session windows count late records only");
    return WindowedStream<In, TimeFn, T, Chain, K, KeyFn, Windows, detail::LateLogSink<T>>(
        std::move(source_), std::move(chain_), std::move(key_), windows_, allowed_lateness_,
        detail::LateLogSink<T>(std::move(log), create));
  }

  template <operators::Aggregation A>
  auto Aggregate(A aggregate) && {
    static_assert(std::is_same_v<typename A::Input, T>,
                  "the aggregation's Input is the stream's record");
    return WindowedAggregation<In, TimeFn, T, Chain, K, KeyFn, Windows, A, LateLog>(
        std::move(source_), std::move(chain_), std::move(key_), windows_, allowed_lateness_,
        std::move(aggregate), std::move(late_));
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  LateLog late_;
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn,
          operators::Aggregation A>
class KeyedAggregation {
 public:
  KeyedAggregation(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, A aggregate)
      : source_(std::move(source)),
        chain_(std::move(chain)),
        key_(std::move(key)),
        aggregate_(std::move(aggregate)) {}

  // Upserts each key's result into keyed view `view` (version and shards set by the engine).
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    using Part = detail::KeyedAggregatePartition<T, K, A>;
    auto make_part = [aggregate = aggregate_, view, options](int) {
      return std::make_unique<Part>(aggregate, view, options);
    };
    return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(make_part), false, view);
  }

  // Keeps the `k` keys whose result ranks best, by options.order_field (default: the result's
  // first field), largest first (options.ascending: smallest), in top-K view `view`: readers see
  // whole lists. The job then runs in one partition (one writer sees every key).
  Job ToTopK(std::string view, std::uint32_t k, ViewSinkOptions options = {}) && {
    using Part = detail::TopKAggregatePartition<T, K, A>;
    auto make_part = [aggregate = aggregate_, view, k, options](int) {
      return std::make_unique<Part>(aggregate, view, k, options);
    };
    return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(make_part), true, view);
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  A aggregate_;
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows,
          operators::Aggregation A, class LateLog>
class WindowedAggregation {
 public:
  using Output = typename A::Output;
  static constexpr bool kSessions = std::is_same_v<Windows, operators::SessionWindows>;

  WindowedAggregation(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key,
                      Windows windows, std::int64_t allowed_lateness, A aggregate, LateLog late)
      : source_(std::move(source)),
        chain_(std::move(chain)),
        key_(std::move(key)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        aggregate_(std::move(aggregate)),
        late_(std::move(late)) {}

  // Tumbling and hopping windows: each (key, window) result into windowed view `view` when the
  // watermark passes the window's end. Sessions: each key's latest session into keyed view
  // `view`, as session_start, session_end and the aggregate's fields.
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    if constexpr (kSessions) {
      using Sink = detail::KeyedViewSink<detail::SessionResult<Output>>;
      using Part = detail::SessionAggregatePartition<T, K, A, Sink>;
      auto make_part = [aggregate = aggregate_, gap = windows_.gap(), lateness = allowed_lateness_,
                        view, options](int) {
        return std::make_unique<Part>(aggregate, gap, lateness, Sink(view, options));
      };
      return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(
          std::move(source_), std::move(chain_), std::move(key_), std::move(make_part), false,
          view);
    } else {
      using Part = detail::WindowAggregatePartition<T, K, A, Windows, LateLog>;
      auto make_part = [aggregate = aggregate_, windows = windows_, lateness = allowed_lateness_,
                        view, options, late = late_](int) {
        return std::make_unique<Part>(aggregate, windows, lateness, view, options, late);
      };
      return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(
          std::move(source_), std::move(chain_), std::move(key_), std::move(make_part), false,
          view);
    }
  }

  // Sessions: every session emitted, into a result list view of (key, session_start,
  // session_end, the aggregate's fields), the key named options.key_name; a session that a late
  // record changes comes again. The job then runs in one partition.
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16, ViewSinkOptions options = {}) && {
    static_assert(kSessions, "ToList after a window takes session windows");
    using Sink = detail::ListSink<detail::KeyedResult<K, detail::SessionResult<Output>>>;
    using Part = detail::SessionAggregatePartition<T, K, A, Sink>;
    auto make_part = [aggregate = aggregate_, gap = windows_.gap(), lateness = allowed_lateness_,
                      view, capacity, options](int) {
      return std::make_unique<Part>(aggregate, gap, lateness,
                                    Sink(view, capacity, options.key_name, options.value_name));
    };
    return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(
        std::move(source_), std::move(chain_), std::move(key_), std::move(make_part), true, view);
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  A aggregate_;
  LateLog late_;
};

namespace detail {

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Part,
          class MakePart>
Job MakeJob(SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, MakePart make_part,
            bool single_partition, std::string view, std::string error) {
  std::string name = source.name;
  std::string log = source.log;
  const SourceOptions options = source.options;
  auto factory = [source = std::move(source), chain = std::move(chain), key = std::move(key),
                  make_part = std::move(make_part),
                  single_partition](const JobContext& ctx, std::size_t batch) {
    JobContext c = ctx;
    if (single_partition) c.partitions = 1;
    using Plan = TypedPlan<In, TimeFn, T, Chain, K, KeyFn, Part>;
    return std::unique_ptr<JobPlan>(new Plan(source.name, source.time, source.max_out_of_orderness,
                                             chain, key, typename Plan::PartFactory(make_part), c,
                                             batch));
  };
  return Job(std::move(name), std::move(log), options, std::move(factory), std::move(view),
             std::move(error));
}

}  // namespace detail
}  // namespace kappa::engine
