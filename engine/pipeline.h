// Pipelines: a source log, stateless steps, a key, a keyed operator (and, on its results, more
// steps, keys and keyed operators) and a sink, written in a few lines and compiled into a job the
// Engine runs.
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
// Joins meet two keyed streams of one log (read through one Source), or a keyed stream and a
// serving view (engine/detail/joins.h says exactly how). A job is named after what it writes:
//
//   Source events("events");
//   // Each category-10 auction with its seller, whichever came first (regular, SQL's JOIN).
//   Job q3 = events.Read<Auction>()
//                .KeyBy([](const Auction& a) { return a.seller; })
//                .RegularJoin(events.Read<Person>().KeyBy([](const Person& p) { return p.id; }),
//                             operators::kForever)
//                .Select([](const Auction& a, const Person& p) { return Item{a.id, p.id}; })
//                .ToList("q3");
//   // Each bid with its auction, as of the bid's place in the log (stream–table).
//   Job enriched =
//       events.Read<Bid>()
//           .KeyBy([](const Bid& b) { return b.auction; })
//           .Join(events.Read<Auction>().KeyBy([](const Auction& a) { return a.id; }))
//           .Select([](const Bid& b, const Auction& a) {
//             return BidRow{b.auction, a.seller, b.price};
//           })
//           .ToView("bids_enriched");
//   // Sellers who opened an auction in the same 10 s window as they registered (windowed).
//   Job q8 = events.Read<Person>()
//                .EventTime(...).KeyBy([](const Person& p) { return p.id; })
//                .WindowJoin(events.Read<Auction>().EventTime(...).KeyBy(...),
//                            TumblingWindows(10s))
//                .Select([](const Person& p, const Auction& a) { return NewSeller{p.id, a.id}; })
//                .ToView("q8");
//   // Each auction's highest bid before it expires, once it has (until a deadline).
//   Job q9 = events.Read<Auction>()
//                .EventTime(...).KeyBy([](const Auction& a) { return a.id; })
//                .JoinUntil(events.Read<Bid>().EventTime(...).KeyBy(...),
//                           [](const Auction& a) { return a.expires; },
//                           [](const Bid& x, const Bid& best) { return x.price > best.price; })
//                .Select([](const Auction& a, const Bid& b) { return Winner{a.id, b.price}; })
//                .ToView("q9");
//
// A keyed aggregate goes to a keyed view (ToView), or, ranked, to a top-K view (ToTopK: the k
// keys whose result ranks best).
//
// Every keyed operator's results are again a stream (engine/results.h): filtered, mapped, keyed
// again and aggregated again in the same job, or sent to any sink. NEXMark Q5, the hottest
// auctions of each window (all those tied for the most bids), as one job:
//
//   using Counts = WindowResult<std::int64_t, std::int64_t>;
//   Job q5 = From<Bid>("q5", "events")
//                .EventTime([](const Bid& b) { return b.date_time; }, 0s)
//                .KeyBy([](const Bid& b) { return b.auction; })
//                .Window(operators::HoppingWindows(10s, 2s))
//                .Aggregate(operators::Count<Bid>{})   // Counts{auction, start, end, n}
//                .KeyBy([](const Counts& r) { return r.start; })
//                .Window(operators::TumblingWindows(2s))  // closes once a window's counts are in
//                .ArgMax([](const Counts& r) { return r.value; })  // every count at the max
//                .Map([](const WindowResult<std::int64_t, Counts>& r) { return Hot{r.value}; })
//                .ToList("q5");
//
// Each keyed operator is a stage: its partitions' results are split by the next key into the
// next stage's partitions, in the same slot (a checkpoint holds every stage at one log position,
// so exactly-once holds for the whole job). A window's or a session's result is a record whose
// event time is its window's last instant (end - 1), produced under the watermark before the
// batch that closed it: never late for the stage after. A running aggregate's stream has one
// result per record (the key's result after it). The next stage reads the results of all
// partitions by event time (results the watermark released) or log offset (results of records),
// whatever the batches, so that a replay gives what the live run gave.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "engine/detail/joins.h"
#include "engine/detail/typed_plan.h"
#include "engine/options.h"
#include "engine/record.h"
#include "engine/results.h"
#include "memlog/log.h"
#include "operators/aggregate.h"
#include "operators/window.h"

namespace kappa::engine {

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

// A pipeline being built: its source, the keyed stages it has so far (a std::tuple of Stage),
// and the stateless chain from the last stage's results (or the source's records) to records of
// type T. Every builder class holds one.
template <class Source_, class Stages_, class T_, class Chain_>
struct Flow {
  using Source = Source_;
  using Stages = Stages_;
  using T = T_;
  using Chain = Chain_;
  Source source;
  Stages stages;
  Chain chain;
  std::string error;  // why the pipeline cannot run, or ""
};

// What a flow's chain reads: the source's records, or the last stage's results.
template <class Source, class Stages>
struct ChainInput {
  using type = typename std::tuple_element_t<std::tuple_size_v<Stages> - 1, Stages>::Out;
};
template <class Source>
struct ChainInput<Source, std::tuple<>> {
  using type = typename Source::In;
};
template <class F>
using ChainInputOf = typename ChainInput<typename F::Source, typename F::Stages>::type;

template <class T, class Source, class Stages, class Chain>
Flow<Source, Stages, T, Chain> MakeFlow(Source source, Stages stages, Chain chain,
                                        std::string error) {
  return {std::move(source), std::move(stages), std::move(chain), std::move(error)};
}

// `flow`'s stages and one more: its chain, `key`, and the partitions make_part(partition, box)
// makes, which emit records of type Out into `box` (void: they write a sink).
template <class Out, class F, class KeyFn, class MakePart>
auto WithStage(F&& flow, KeyFn key, MakePart make_part, bool single_partition) {
  using Part = typename std::invoke_result_t<MakePart&, int, Outbox<Out>*>::element_type;
  using S = Stage<ChainInputOf<F>, typename F::T, typename F::Chain, KeyFn, Part, Out>;
  return std::tuple_cat(
      std::move(flow.stages),
      std::tuple<S>(S{std::move(flow.chain), std::move(key),
                      typename S::MakePart(std::move(make_part)), single_partition}));
}

// The name of a job its source did not name: its view's, or the file name of the log it writes.
inline std::string JobNameFor(const std::string& view, const std::string& log) {
  if (!view.empty()) return view;
  return log.substr(log.find_last_of('/') + 1);
}

// The job of `flow` whose last stage (keyed by `key`) writes a sink in partitions make_part makes
// (into view `view`, or log `sink_log`).
template <class F, class KeyFn, class MakePart>
Job Finish(F flow, KeyFn key, MakePart make_part, bool single_partition, std::string view,
           const std::string& sink_log = "") {
  auto stages =
      WithStage<void>(std::move(flow), std::move(key), std::move(make_part), single_partition);
  std::string name = flow.source.name.empty() ? JobNameFor(view, sink_log) : flow.source.name;
  std::string log = flow.source.log;
  const SourceOptions options = flow.source.options;
  auto factory = [source = std::move(flow.source), stages = std::move(stages)](
                     const JobContext& ctx, std::size_t batch) {
    return std::apply(
        [&](const auto&... s) -> std::unique_ptr<JobPlan> {
          using Plan = TypedPlan<std::decay_t<decltype(source)>, std::decay_t<decltype(s)>...>;
          return std::make_unique<Plan>(source, stages, ctx, batch);
        },
        stages);
  };
  return Job(std::move(name), std::move(log), options, std::move(factory), std::move(view),
             std::move(flow.error));
}

// The source of a join's two sides: one log read once, with each side's event time.
template <class A, class B>
auto JoinSources(A a, B b) {
  using S =
      LogSource<Either<typename A::In, typename B::In>,
                JoinTime<typename A::In, typename B::In, typename A::TimeFn, typename B::TimeFn>>;
  return S{std::move(a.name),
           std::move(a.log),
           a.options,
           {a.time, b.time},
           std::max(a.max_out_of_orderness, b.max_out_of_orderness)};
}
inline std::string JoinError(const std::string& job, const std::string& left_log,
                             const std::string& right_log) {
  if (memlog::Log::ResolvePath(left_log) == memlog::Log::ResolvePath(right_log)) return {};
  return "job " + job + ": both sides of a join must read one log; the left reads " + left_log +
         ", the right " + right_log;
}

}  // namespace detail

template <class F>
class Stream;
template <class F, class KeyFn>
class KeyedStream;
template <class F, class KeyFn, class MakeOp>
class JoinedStreams;
template <class F, class KeyFn, class Op>
class JoinResults;
template <class F, class KeyFn, class Windows, class LateLog>
class WindowedStream;
template <class F, class KeyFn, operators::Aggregation A>
class KeyedAggregation;
template <class F, class KeyFn, class Windows, operators::Aggregation A, class LateLog>
class WindowedAggregation;
template <class F, class KeyFn, class Windows, class ScoreFn, class LateLog>
class WindowedArgMax;

namespace detail {
// The stream of a stage's results: records of type Out, from the stages so far.
template <class Out, class F, class KeyFn, class MakePart>
auto Continue(F flow, KeyFn key, MakePart make_part) {
  auto stages = WithStage<Out>(std::move(flow), std::move(key), std::move(make_part), false);
  auto next =
      MakeFlow<Out>(std::move(flow.source), std::move(stages), Identity{}, std::move(flow.error));
  return Stream<decltype(next)>(std::move(next));
}
}  // namespace detail

// What every stream of records offers; Derived::AsStream() && gives the stream. The results of
// keyed operators (aggregates, windows, joins) are streams too.
template <class Derived>
class StreamSteps {
 public:
  // Keeps the records for which pred(record) is true.
  template <class P>
  auto Filter(P pred) && {
    return Self().AsStream().Filter(std::move(pred));
  }
  // Replaces each record by f(record) (a trivially copyable value).
  template <class F>
  auto Map(F f) && {
    return Self().AsStream().Map(std::move(f));
  }
  // Replaces each record by any number of records of type U: f(record, emit) calls emit(U).
  template <class U, class F>
  auto FlatMap(F f) && {
    return Self().AsStream().template FlatMap<U>(std::move(f));
  }
  // Partitions the stream by key(record), an integer or a composite key (engine/key.h).
  template <class KeyFn>
  auto KeyBy(KeyFn key) && {
    return Self().AsStream().KeyBy(std::move(key));
  }
  // Appends every record to another log, created with `create` if it does not exist.
  Job ToLog(std::string log, memlog::CreateOptions create = {}) && {
    return Self().AsStream().ToLog(std::move(log), create);
  }

 private:
  Derived&& Self() { return static_cast<Derived&&>(*this); }
};

// A stream of records of type F::T.
template <class F>
class Stream {
 public:
  using T = typename F::T;
  explicit Stream(F flow) : flow_(std::move(flow)) {}

  // Event time from the source record, with up to `max_out_of_orderness` of disorder (a
  // std::chrono duration, or whole nanoseconds).
  // REQUIRES: no step before it (it reads the source record).
  template <class Time>
  auto EventTime(Time time, std::int64_t max_out_of_orderness) && {
    using Source = typename F::Source;
    static_assert(std::tuple_size_v<typename F::Stages> == 0 &&
                      std::is_same_v<T, typename Source::In> &&
                      std::is_same_v<typename F::Chain, detail::Identity>,
                  "EventTime reads the source record: call it first");
    detail::LogSource<typename Source::In, Time> source{
        std::move(flow_.source.name), std::move(flow_.source.log), flow_.source.options,
        std::move(time), max_out_of_orderness};
    return Stream<detail::Flow<decltype(source), std::tuple<>, T, detail::Identity>>(
        detail::MakeFlow<T>(std::move(source), std::tuple<>{}, detail::Identity{},
                            std::move(flow_.error)));
  }
  template <class Time>
  auto EventTime(Time time, std::chrono::nanoseconds max_out_of_orderness) && {
    return std::move(*this).EventTime(std::move(time), max_out_of_orderness.count());
  }

  // Keeps the records for which pred(record) is true.
  template <class P>
  auto Filter(P pred) && {
    return std::move(*this).template Then<T>([pred = std::move(pred)](const T& t, auto&& next) {
      if (pred(t)) next(t);
    });
  }

  // Replaces each record by f(record) (a trivially copyable value).
  template <class Fn>
  auto Map(Fn f) && {
    using U = std::decay_t<std::invoke_result_t<Fn&, const T&>>;
    static_assert(std::is_trivially_copyable_v<U>, "records are fixed-layout structs");
    return std::move(*this).template Then<U>(
        [f = std::move(f)](const T& t, auto&& next) { next(f(t)); });
  }

  // Replaces each record by any number of records of type U: f(record, emit) calls emit(U).
  template <class U, class Fn>
  auto FlatMap(Fn f) && {
    static_assert(std::is_trivially_copyable_v<U>, "records are fixed-layout structs");
    return std::move(*this).template Then<U>(
        [f = std::move(f)](const T& t, auto&& next) { f(t, [&](const U& u) { next(u); }); });
  }

  // Partitions the stream by key(record), an integer or a composite key (engine/key.h).
  template <class KeyFn>
  auto KeyBy(KeyFn key) && {
    detail::CheckKey<std::decay_t<std::invoke_result_t<KeyFn&, const T&>>>();
    return KeyedStream<F, KeyFn>(std::move(flow_), std::move(key));
  }

  // Appends every record to a result list view that keeps the last `capacity` rows (a registered
  // Record type, or an operator's result: WindowResult, KeyedResult).
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16, ViewSinkOptions options = {}) && {
    return std::move(*this).Into(
        [view, capacity, options] {
          return detail::ListSink<T>(view, capacity, options.key_name, options.value_name);
        },
        view);
  }

  // Appends every record (a registered Record type, with its kLogType) to another log, created
  // with `create` if it does not exist: a derived stream that another pipeline can read.
  Job ToLog(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<T>, "log records are registered records (RecordType<T>)");
    return std::move(*this).Into([log, create] { return detail::LogSink<T>(log, create); }, "",
                                 log);
  }

 private:
  template <class>
  friend class Stream;
  template <class, class>
  friend class KeyedStream;

  // The stream after one more stateless step: step(record, next) calls next(U) for each record
  // of type U that comes of `record`.
  template <class U, class Step>
  auto Then(Step step) && {
    auto chain = [prev = std::move(flow_.chain), step = std::move(step)](
                     const auto& in, auto&& next) { prev(in, [&](const T& t) { step(t, next); }); };
    return Stream<detail::Flow<typename F::Source, typename F::Stages, U, decltype(chain)>>(
        detail::MakeFlow<U>(std::move(flow_.source), std::move(flow_.stages), std::move(chain),
                            std::move(flow_.error)));
  }

  // Every record into the sink make_sink() makes, in one partition.
  template <class MakeSink>
  Job Into(MakeSink make_sink, std::string view, const std::string& log = "") && {
    using Part = detail::StreamPartition<T, std::uint64_t, std::invoke_result_t<MakeSink&>>;
    return detail::Finish(
        std::move(flow_), detail::NoKey{},
        [make_sink](int, detail::Outbox<void>*) { return std::make_unique<Part>(make_sink()); },
        /*single_partition=*/true, std::move(view), log);
  }

  F flow_;
};

// The start of a pipeline: records of type In from `log`, in job `job_name` ("": named after
// what it writes). Source (below) does the same for several reads of one log.
template <Record In>
auto From(std::string job_name, std::string log, SourceOptions options = {}) {
  using Source = detail::LogSource<In, detail::LogTimestamp>;
  return Stream<detail::Flow<Source, std::tuple<>, In, detail::Identity>>(
      detail::MakeFlow<In>(Source{std::move(job_name), std::move(log), options, {}, 0},
                           std::tuple<>{}, detail::Identity{}, ""));
}

// A log that pipelines read: one object gives every side of a job (both sides of a join), and
// the job is named once, after what it writes (its view, or the log it appends to) unless
// Named says otherwise.
//
//   Source events("events");
//   Job q9 = events.Read<Auction>().EventTime(...).KeyBy(...)
//                .JoinUntil(events.Read<Bid>().EventTime(...).KeyBy(...), ...)
//                .Select(...)
//                .ToView("q9");                        // job q9
class Source {
 public:
  explicit Source(std::string log, SourceOptions options = {})
      : log_(std::move(log)), options_(std::move(options)) {}

  // The same log, for a job named `job` (its checkpoints and metrics go by that name).
  Source Named(std::string job) const {
    Source s = *this;
    s.job_ = std::move(job);
    return s;
  }

  // The records of type T in the log.
  template <Record T>
  auto Read() const {
    return From<T>(job_, log_, options_);
  }

  const std::string& log() const { return log_; }
  const SourceOptions& options() const { return options_; }

 private:
  std::string log_;
  SourceOptions options_;
  std::string job_;
};

// A stream partitioned by key.
template <class F, class KeyFn>
class KeyedStream {
 public:
  using T = typename F::T;
  using K = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  KeyedStream(F flow, KeyFn key) : flow_(std::move(flow)), key_(std::move(key)) {}

  // A running aggregate per key.
  template <operators::Aggregation A>
  auto Aggregate(A aggregate) && {
    static_assert(std::is_same_v<typename A::Input, T>,
                  "the aggregation's Input is the stream's record");
    return KeyedAggregation<F, KeyFn, A>(std::move(flow_), std::move(key_), std::move(aggregate));
  }

  // Event-time windows: operators::TumblingWindows, HoppingWindows or SessionWindows. Records
  // later than `allowed_lateness` after their window's end are dropped and counted; a window a
  // late record changes is emitted again.
  template <class Windows>
  auto Window(Windows windows, std::int64_t allowed_lateness = 0) && {
    return WindowedStream<F, KeyFn, Windows, detail::NoLateLog>(std::move(flow_), std::move(key_),
                                                                windows, allowed_lateness, {});
  }
  template <class Windows>
  auto Window(Windows windows, std::chrono::nanoseconds allowed_lateness) && {
    return std::move(*this).Window(windows, allowed_lateness.count());
  }

  // Stream–table join: each record of this stream meets the latest record of `table` (another
  // keyed stream of the same log, with keys of the same type) with its key, as of its place in
  // the log. Select(fn) then says what comes out. The table is kept per partition
  // (`expected_keys` sizes it) and checkpointed with the job.
  template <class RF, class RKeyFn>
  auto Join(KeyedStream<RF, RKeyFn> table, std::size_t expected_keys = 1 << 16) && {
    using RT = typename RF::T;
    return std::move(*this).Combine(std::move(table), [expected_keys]<class Select>(Select select) {
      return detail::TableJoinOp<T, RT, K, Select>{std::move(select), expected_keys};
    });
  }

  // Regular (symmetric) join, SQL's plain JOIN: records of this stream and of `other` (another
  // keyed stream of the same log) with one key meet whichever came first; each record is kept
  // until the watermark passes its event time + `retention` (operators::kForever: kept for
  // ever, as SQL keeps them; state then grows with the input). Select(fn) then says what comes
  // out for each pair, with the later record's time.
  template <class RF, class RKeyFn>
  auto RegularJoin(KeyedStream<RF, RKeyFn> other, std::int64_t retention) && {
    using RT = typename RF::T;
    return std::move(*this).Combine(std::move(other), [retention]<class Select>(Select select) {
      return detail::RegularJoinOp<T, RT, K, Select>{std::move(select), retention};
    });
  }
  template <class RF, class RKeyFn>
  auto RegularJoin(KeyedStream<RF, RKeyFn> other, std::chrono::nanoseconds retention) && {
    return std::move(*this).RegularJoin(std::move(other), retention.count());
  }

  // Windowed stream–stream join: records of this stream and of `other` (another keyed stream of
  // the same log) with one key in one event-time window (tumbling or hopping) meet once the
  // watermark passes the window's end; records too late for every window are counted.
  template <class RF, class RKeyFn, class Windows>
  auto WindowJoin(KeyedStream<RF, RKeyFn> other, Windows windows) && {
    static_assert(!std::is_same_v<Windows, operators::SessionWindows>,
                  "window joins take tumbling or hopping windows");
    using RT = typename RF::T;
    return std::move(*this).Combine(std::move(other), [windows]<class Select>(Select select) {
      return detail::WindowJoinOp<T, RT, K, Windows, Select>{std::move(select), windows};
    });
  }

  // Stream–stream join until a deadline: each record of this stream (an auction) collects the
  // records of `other` (its bids: another keyed stream of the same log) with its key and an
  // event time from its own to deadline(record), keeping the best by better(a, b) ("a beats
  // b"); once the watermark passes the deadline, Select(record, best) comes out, keyed by the
  // key, with the deadline as its event time.
  template <class RF, class RKeyFn, class DeadlineFn, class BetterFn>
  auto JoinUntil(KeyedStream<RF, RKeyFn> other, DeadlineFn deadline, BetterFn better) && {
    using RT = typename RF::T;
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
    return JoinedStreams<F, KeyFn, decltype(make_op)>(std::move(flow_), std::move(key_),
                                                      std::move(make_op));
  }

 private:
  template <class, class>
  friend class KeyedStream;
  template <class, class, class, class>
  friend class WindowedStream;
  template <class, class, operators::Aggregation>
  friend class KeyedAggregation;
  template <class, class, class>
  friend class JoinedStreams;
  template <class, class, class, operators::Aggregation, class>
  friend class WindowedAggregation;
  template <class, class, class, class, class>
  friend class WindowedArgMax;
  template <class, class, class>
  friend class JoinResults;

  // This stream (left) and `other` (right) as one pipeline over their log: both must read it
  // directly (no keyed stage before a join).
  template <class RF, class RKeyFn, class MakeOp>
  auto Combine(KeyedStream<RF, RKeyFn> other, MakeOp make_op) && {
    static_assert(
        std::tuple_size_v<typename F::Stages> == 0 && std::tuple_size_v<typename RF::Stages> == 0,
        "both sides of a join read the log (no keyed operator before a join)");
    using LS = typename F::Source;
    using RS = typename RF::Source;
    using RT = typename RF::T;
    using Chain = detail::JoinChain<typename LS::In, typename RS::In, T, RT, typename F::Chain,
                                    typename RF::Chain>;
    using Key = detail::JoinKey<T, RT, KeyFn, RKeyFn>;
    std::string error = flow_.error.empty() ? detail::JoinError(flow_.source.name, flow_.source.log,
                                                                other.flow_.source.log)
                                            : flow_.error;
    auto flow = detail::MakeFlow<detail::Either<T, RT>>(
        detail::JoinSources(std::move(flow_.source), std::move(other.flow_.source)), std::tuple<>{},
        Chain{std::move(flow_.chain), std::move(other.flow_.chain)}, std::move(error));
    return JoinedStreams<decltype(flow), Key, MakeOp>(
        std::move(flow), Key{std::move(key_), std::move(other.key_)}, std::move(make_op));
  }

  // The job whose last stage runs the partitions make_part makes (see detail::Finish).
  template <class MakePart>
  Job Finish(MakePart make_part, bool single_partition, std::string view,
             const std::string& log = "") && {
    return detail::Finish(std::move(flow_), std::move(key_), std::move(make_part), single_partition,
                          std::move(view), log);
  }
  // The stream of the results (records of type Out) of the partitions make_part makes.
  template <class Out, class MakePart>
  auto Continue(MakePart make_part) && {
    return detail::Continue<Out>(std::move(flow_), std::move(key_), std::move(make_part));
  }

  F flow_;
  KeyFn key_;
};

// A join waiting for its select function.
template <class F, class KeyFn, class MakeOp>
class JoinedStreams {
 public:
  JoinedStreams(F flow, KeyFn key, MakeOp make_op)
      : keyed_(std::move(flow), std::move(key)), make_op_(std::move(make_op)) {}

  // What a meeting pair gives: select(left, right) returns the result (a registered record, or a
  // number for a view); returning std::optional<Result> drops the pairs it gives no value for;
  // taking `const Right*` makes a left outer join (nullptr: nothing met).
  template <class SelectFn>
  auto Select(SelectFn select) && {
    auto op = make_op_(std::move(select));
    return JoinResults<F, KeyFn, decltype(op)>(std::move(keyed_), std::move(op));
  }

 private:
  KeyedStream<F, KeyFn> keyed_;
  MakeOp make_op_;
};

// A join's results: into a sink, or on as a stream of records of type Out.
template <class F, class KeyFn, class Op>
class JoinResults : public StreamSteps<JoinResults<F, KeyFn, Op>> {
  static_assert(detail::JoinOperator<Op>);

 public:
  using Out = typename Op::Out;
  using K = typename KeyedStream<F, KeyFn>::K;
  JoinResults(KeyedStream<F, KeyFn> keyed, Op op) : keyed_(std::move(keyed)), op_(std::move(op)) {}

  // Into a view, one shard per partition: a window join's into a windowed view (each key's
  // result per window), other joins' into a keyed view (each key's latest result). Where several
  // pairs meet under one key (and window), the last one in log order stays.
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    if constexpr (Op::kWindowed) {
      const auto windows = op_.windows;
      return std::move(*this).Into(
          [view, options, windows] {
            return detail::WindowedViewSink<K, Out>(view, options, windows.size(), windows.slide());
          },
          false, view);
    } else {
      return std::move(*this).Into(
          [view, options] { return detail::KeyedViewSink<K, Out>(view, options); }, false, view);
    }
  }
  // Every result, appended to a result list view (the join then runs in one partition).
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16) && {
    static_assert(Record<Out>, "list rows are registered records (RecordType<T>)");
    return std::move(*this).Into([view, capacity] { return detail::ListSink<Out>(view, capacity); },
                                 true, view);
  }
  // Every result, appended to another log (the join then runs in one partition).
  Job ToLog(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<Out>, "log records are registered records (RecordType<T>)");
    return std::move(*this).Into([log, create] { return detail::LogSink<Out>(log, create); }, true,
                                 "", log);
  }

  // The results as a stream (what Filter, Map, KeyBy and the other steps read).
  auto AsStream() && {
    return std::move(keyed_).template Continue<Out>(
        [op = op_](int, detail::Outbox<Out>* box) { return op.Make(detail::EmitSink<Out>(box)); });
  }

 private:
  template <class MakeSink>
  Job Into(MakeSink make_sink, bool single_partition, std::string view,
           const std::string& log = "") && {
    return std::move(keyed_).Finish(
        [op = op_, make_sink](int, detail::Outbox<void>*) { return op.Make(make_sink()); },
        single_partition, std::move(view), log);
  }

  KeyedStream<F, KeyFn> keyed_;
  Op op_;
};

// A keyed stream in event-time windows, waiting for its aggregate.
template <class F, class KeyFn, class Windows, class LateLog>
class WindowedStream {
 public:
  using T = typename F::T;
  WindowedStream(F flow, KeyFn key, Windows windows, std::int64_t allowed_lateness, LateLog late)
      : keyed_(std::move(flow), std::move(key)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        late_(std::move(late)) {}

  // Also appends each late record (a registered record type) to log `log`, created with
  // `create` if it does not exist (at-least-once, as every log a job writes).
  auto LateTo(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<T>, "late records go to a log as registered records (RecordType<T>)");
    static_assert(!std::is_same_v<Windows, operators::SessionWindows>,
                  "session windows count late records only");
    return WindowedStream<F, KeyFn, Windows, detail::LateLogSink<T>>(
        std::move(keyed_.flow_), std::move(keyed_.key_), windows_, allowed_lateness_,
        detail::LateLogSink<T>(std::move(log), create));
  }

  template <operators::Aggregation A>
  auto Aggregate(A aggregate) && {
    static_assert(std::is_same_v<typename A::Input, T>,
                  "the aggregation's Input is the stream's record");
    return WindowedAggregation<F, KeyFn, Windows, A, LateLog>(
        std::move(keyed_), windows_, allowed_lateness_, std::move(aggregate), std::move(late_));
  }

  // Every record whose score(record) (a number) is its (key, window)'s highest: all the tied
  // ones, as SQL's join of a window's rows with its MAX gives them (operators/arg_max.h). A stream
  // of WindowResult<K, T>, one per record, emitted when the watermark passes the window's end,
  // by key within a window and in arrival order within a key.
  template <class ScoreFn>
  auto ArgMax(ScoreFn score, ArgMaxOptions options = {}) && {
    static_assert(!std::is_same_v<Windows, operators::SessionWindows>,
                  "ArgMax takes tumbling or hopping windows");
    static_assert(std::is_arithmetic_v<std::decay_t<std::invoke_result_t<ScoreFn&, const T&>>>,
                  "ArgMax's score is a number");
    return WindowedArgMax<F, KeyFn, Windows, ScoreFn, LateLog>(std::move(keyed_), windows_,
                                                               allowed_lateness_, std::move(score),
                                                               options, std::move(late_));
  }

 private:
  KeyedStream<F, KeyFn> keyed_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  LateLog late_;
};

// A running aggregate per key: into a keyed view or a top-K view, or on as a stream of
// KeyedResult<K, Output> (each record's key with its result after the record).
template <class F, class KeyFn, operators::Aggregation A>
class KeyedAggregation : public StreamSteps<KeyedAggregation<F, KeyFn, A>> {
 public:
  using T = typename F::T;
  using K = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  using Output = typename A::Output;
  using Result = KeyedResult<K, Output>;
  KeyedAggregation(F flow, KeyFn key, A aggregate)
      : keyed_(std::move(flow), std::move(key)), aggregate_(std::move(aggregate)) {}

  // Upserts each key's result into keyed view `view` (version and shards set by the engine).
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    using Part = detail::KeyedAggregatePartition<T, K, A>;
    return std::move(keyed_).Finish(
        [aggregate = aggregate_, view, options](int, detail::Outbox<void>*) {
          return std::make_unique<Part>(aggregate, view, options);
        },
        false, view);
  }

  // Keeps the `k` keys whose result ranks best, by options.order_field (default: the result's
  // first field), largest first (options.ascending: smallest), in top-K view `view`: readers see
  // whole lists. The stage then runs in one partition (one writer sees every key).
  Job ToTopK(std::string view, std::uint32_t k, ViewSinkOptions options = {}) && {
    using Part = detail::TopKAggregatePartition<T, K, A>;
    return std::move(keyed_).Finish(
        [aggregate = aggregate_, view, k, options](int, detail::Outbox<void>*) {
          return std::make_unique<Part>(aggregate, view, k, options);
        },
        true, view);
  }

  // Every result (each record's), appended to a result list view of (key, the result's fields).
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16, ViewSinkOptions options = {}) && {
    return std::move(*this).AsStream().ToList(std::move(view), capacity, std::move(options));
  }

  // The results as a stream (what Filter, Map, KeyBy and the other steps read).
  auto AsStream() && {
    using Part = detail::KeyedAggregateStreamPartition<T, K, A, detail::EmitSink<Result>>;
    std::string name = keyed_.flow_.source.name;
    return std::move(keyed_).template Continue<Result>(
        [aggregate = aggregate_, name](int, detail::Outbox<Result>* box) {
          return std::make_unique<Part>(aggregate, 1 << 16, detail::EmitSink<Result>(box), name);
        });
  }

 private:
  KeyedStream<F, KeyFn> keyed_;
  A aggregate_;
};

// A windowed aggregate per key: into a view or a list, or on as a stream of
// WindowResult<K, Output> (each window's or session's result once the watermark passes it).
template <class F, class KeyFn, class Windows, operators::Aggregation A, class LateLog>
class WindowedAggregation : public StreamSteps<WindowedAggregation<F, KeyFn, Windows, A, LateLog>> {
 public:
  using T = typename F::T;
  using K = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  using Output = typename A::Output;
  using Result = WindowResult<K, Output>;
  static constexpr bool kSessions = std::is_same_v<Windows, operators::SessionWindows>;

  WindowedAggregation(KeyedStream<F, KeyFn> keyed, Windows windows, std::int64_t allowed_lateness,
                      A aggregate, LateLog late)
      : keyed_(std::move(keyed)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        aggregate_(std::move(aggregate)),
        late_(std::move(late)) {}

  // Tumbling and hopping windows: each (key, window) result into windowed view `view` when the
  // watermark passes the window's end. Sessions: each key's latest session into keyed view
  // `view`, as session_start, session_end and the aggregate's fields.
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    if constexpr (kSessions) {
      using Sink = detail::KeyedViewSink<K, detail::SessionResult<Output>>;
      return std::move(*this).template Into<Sink>([view, options] { return Sink(view, options); },
                                                  false, view);
    } else {
      using Sink = detail::WindowedViewSink<K, Output>;
      const auto windows = windows_;
      return std::move(*this).template Into<Sink>(
          [view, options, windows] { return Sink(view, options, windows.size(), windows.slide()); },
          false, view);
    }
  }

  // Every result emitted, into a result list view: sessions as (key, session_start,
  // session_end, the aggregate's fields), the key named options.key_name, the stage then in one
  // partition; other windows as WindowResult rows (key, window_start, window_end, fields). A
  // result that a late record changes comes again.
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16, ViewSinkOptions options = {}) && {
    if constexpr (kSessions) {
      using Sink = detail::ListSink<KeyedResult<K, detail::SessionResult<Output>>>;
      return std::move(*this).template Into<Sink>(
          [view, capacity, options] {
            return Sink(view, capacity, options.key_name, options.value_name);
          },
          true, view);
    } else {
      return std::move(*this).AsStream().ToList(std::move(view), capacity, std::move(options));
    }
  }

  // The results as a stream (what Filter, Map, KeyBy and the other steps read).
  auto AsStream() && {
    using Sink = detail::EmitSink<Result>;
    return std::move(keyed_).template Continue<Result>(
        std::move(*this).MakePart([](detail::Outbox<Result>* box) { return Sink(box); }));
  }

 private:
  // make_part(partition, box) for this aggregate with the sink make_sink(box) makes.
  template <class MakeSink>
  auto MakePart(MakeSink make_sink) && {
    using Sink = std::decay_t<decltype(make_sink(nullptr))>;
    std::string name = keyed_.flow_.source.name;
    if constexpr (kSessions) {
      using Part = detail::SessionAggregatePartition<T, K, A, Sink>;
      return [aggregate = aggregate_, gap = windows_.gap(), lateness = allowed_lateness_,
              make_sink](int, auto* box) {
        return std::make_unique<Part>(aggregate, gap, lateness, make_sink(box));
      };
    } else {
      using Part = detail::WindowAggregatePartition<T, K, A, Windows, LateLog, Sink>;
      return [aggregate = aggregate_, windows = windows_, lateness = allowed_lateness_,
              late = late_, make_sink, name](int, auto* box) {
        return std::make_unique<Part>(aggregate, windows, lateness, make_sink(box), name, late);
      };
    }
  }
  template <class Sink, class MakeSink>
  Job Into(MakeSink make_sink, bool single_partition, std::string view) && {
    auto make_part = std::move(*this).MakePart(
        [make_sink](detail::Outbox<void>*) -> Sink { return make_sink(); });
    return std::move(keyed_).Finish(
        [make_part](int p, detail::Outbox<void>* box) { return make_part(p, box); },
        single_partition, std::move(view));
  }

  KeyedStream<F, KeyFn> keyed_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  A aggregate_;
  LateLog late_;
};

// The records at each (key, window)'s highest score: into a result list, or on as a stream of
// WindowResult<K, T>.
template <class F, class KeyFn, class Windows, class ScoreFn, class LateLog>
class WindowedArgMax : public StreamSteps<WindowedArgMax<F, KeyFn, Windows, ScoreFn, LateLog>> {
 public:
  using T = typename F::T;
  using K = std::decay_t<std::invoke_result_t<KeyFn&, const T&>>;
  using Result = WindowResult<K, T>;

  WindowedArgMax(KeyedStream<F, KeyFn> keyed, Windows windows, std::int64_t allowed_lateness,
                 ScoreFn score, ArgMaxOptions options, LateLog late)
      : keyed_(std::move(keyed)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        score_(std::move(score)),
        options_(options),
        late_(std::move(late)) {}

  // Every result, into a result list view of WindowResult rows (key, window_start, window_end,
  // the record's fields).
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16, ViewSinkOptions options = {}) && {
    return std::move(*this).AsStream().ToList(std::move(view), capacity, std::move(options));
  }

  // The results as a stream (what Filter, Map, KeyBy and the other steps read).
  auto AsStream() && {
    using Part = detail::ArgMaxPartition<T, K, Windows, ScoreFn, LateLog, detail::EmitSink<Result>>;
    return std::move(keyed_).template Continue<Result>(
        [score = score_, windows = windows_, lateness = allowed_lateness_,
         include_end = options_.include_end, late = late_,
         name = keyed_.flow_.source.name](int, detail::Outbox<Result>* box) {
          return std::make_unique<Part>(score, windows, lateness, include_end,
                                        detail::EmitSink<Result>(box), name, late);
        });
  }

 private:
  KeyedStream<F, KeyFn> keyed_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  ScoreFn score_;
  ArgMaxOptions options_;
  LateLog late_;
};

}  // namespace kappa::engine
