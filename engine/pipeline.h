// Pipelines: a source log, stateless steps, a key, a keyed operator and a sink, written in a few
// lines and compiled into a job the Engine runs.
//
//   using namespace kappa::engine;
//   Job job = From<Bid>("q5", "events")
//                 .EventTime([](const Bid& b) { return b.date_time; }, /*max_out_of_orderness=*/1'000'000'000)
//                 .Filter([](const Bid& b) { return b.price > 0; })
//                 .KeyBy([](const Bid& b) { return b.auction; })
//                 .Window(operators::HoppingWindows(10'000'000'000, 2'000'000'000))
//                 .Aggregate(operators::Count<Bid>{})
//                 .ToView("bids_per_auction");
//
// Stateless steps (Filter, Map, FlatMap) run on batches in parallel; KeyBy partitions records so
// that each partition's state has one owner; keyed operators and sinks run per partition, in log
// order. A view sink writes one shard per partition (readers see one view).
//
// Event time: EventTime(fn, bound) takes it from the record and allows `bound` ns of disorder
// (the watermark trails the largest time seen by that much); without it, the log record's own
// timestamp is the event time and the watermark follows it exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

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
  using PlanFactory = std::function<std::unique_ptr<detail::JobPlan>(const JobContext&, std::size_t batch_records)>;

  Job(std::string name, std::string log, SourceOptions source, PlanFactory make_plan, std::string view)
      : name_(std::move(name)), log_(std::move(log)), source_(source), make_plan_(std::move(make_plan)),
        view_(std::move(view)) {}

  const std::string& name() const { return name_; }
  // The source log: a path, or a bare name in memlog's default directory.
  const std::string& log() const { return log_; }
  const SourceOptions& source() const { return source_; }
  // The view the job writes ("" for a job that writes a log).
  const std::string& view() const { return view_; }
  std::unique_ptr<detail::JobPlan> MakePlan(const JobContext& ctx, std::size_t batch_records) const {
    return make_plan_(ctx, batch_records);
  }

 private:
  std::string name_;
  std::string log_;
  SourceOptions source_;
  PlanFactory make_plan_;
  std::string view_;
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

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Part, class MakePart>
Job MakeJob(SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, MakePart make_part, bool single_partition,
            std::string view);

}  // namespace detail

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows, operators::Aggregation A>
class WindowedAggregation;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, operators::Aggregation A>
class KeyedAggregation;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows>
class WindowedStream;
template <class In, class TimeFn, class T, class Chain, class K, class KeyFn>
class KeyedStream;

// A stream of records of type T, read from a log of In records.
template <Record In, class TimeFn, class T, class Chain>
class Stream {
 public:
  Stream(detail::SourceSpec<In, TimeFn> source, Chain chain) : source_(std::move(source)), chain_(std::move(chain)) {}

  // Event time from the source record, with up to `max_out_of_orderness` ns of disorder.
  // REQUIRES: no step before it (it reads the source record).
  template <class F>
  auto EventTime(F time, std::int64_t max_out_of_orderness) && {
    static_assert(std::is_same_v<T, In>, "EventTime reads the source record: call it first");
    detail::SourceSpec<In, F> s{std::move(source_.name), std::move(source_.log), source_.options, std::move(time),
                                max_out_of_orderness};
    return Stream<In, F, T, Chain>(std::move(s), std::move(chain_));
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
    return KeyedStream<In, TimeFn, T, Chain, K, KeyFn>(std::move(source_), std::move(chain_), std::move(key));
  }

  // Appends every record (a registered Record type) to a result list view that keeps the last
  // `capacity` rows.
  Job ToList(std::string view, std::uint64_t capacity = 1 << 16) && {
    static_assert(Record<T>, "list rows are registered records (RecordType<T>)");
    using Part = detail::ListPartition<T, std::uint64_t>;
    auto make_part = [view, capacity](int) { return std::make_unique<Part>(view, capacity); };
    return detail::MakeJob<In, TimeFn, T, Chain, std::uint64_t, detail::NoKey, Part>(
        std::move(source_), std::move(chain_), detail::NoKey{}, std::move(make_part), /*single_partition=*/true,
        view);
  }

  // Appends every record (a registered Record type, with its kLogType) to another log, created
  // with `create` if it does not exist: a derived stream that another pipeline can read.
  Job ToLog(std::string log, memlog::CreateOptions create = {}) && {
    static_assert(Record<T>, "log records are registered records (RecordType<T>)");
    using Part = detail::LogPartition<T, std::uint64_t>;
    auto make_part = [log, create](int) { return std::make_unique<Part>(log, create); };
    return detail::MakeJob<In, TimeFn, T, Chain, std::uint64_t, detail::NoKey, Part>(
        std::move(source_), std::move(chain_), detail::NoKey{}, std::move(make_part), /*single_partition=*/true,
        "");
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
      detail::SourceSpec<In, detail::LogTimestamp>{std::move(job_name), std::move(log), options, {}, 0},
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
    static_assert(std::is_same_v<typename A::Input, T>, "the aggregation's Input is the stream's record");
    return KeyedAggregation<In, TimeFn, T, Chain, K, KeyFn, A>(std::move(source_), std::move(chain_), std::move(key_),
                                                                std::move(aggregate));
  }

  // Event-time windows (operators::TumblingWindows or HoppingWindows); records later than
  // `allowed_lateness` ns after their window's end are dropped and counted.
  template <class Windows>
  auto Window(Windows windows, std::int64_t allowed_lateness = 0) && {
    return WindowedStream<In, TimeFn, T, Chain, K, KeyFn, Windows>(std::move(source_), std::move(chain_),
                                                                    std::move(key_), windows, allowed_lateness);
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows>
class WindowedStream {
 public:
  WindowedStream(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, Windows windows,
                 std::int64_t allowed_lateness)
      : source_(std::move(source)), chain_(std::move(chain)), key_(std::move(key)), windows_(windows),
        allowed_lateness_(allowed_lateness) {}

  template <operators::Aggregation A>
  auto Aggregate(A aggregate) && {
    static_assert(std::is_same_v<typename A::Input, T>, "the aggregation's Input is the stream's record");
    return WindowedAggregation<In, TimeFn, T, Chain, K, KeyFn, Windows, A>(
        std::move(source_), std::move(chain_), std::move(key_), windows_, allowed_lateness_, std::move(aggregate));
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  Windows windows_;
  std::int64_t allowed_lateness_;
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, operators::Aggregation A>
class KeyedAggregation {
 public:
  KeyedAggregation(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, A aggregate)
      : source_(std::move(source)), chain_(std::move(chain)), key_(std::move(key)), aggregate_(std::move(aggregate)) {}

  // Upserts each key's result into keyed view `view` (version and shards set by the engine).
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    using Part = detail::KeyedAggregatePartition<T, K, A>;
    auto make_part = [aggregate = aggregate_, view, options](int) {
      return std::make_unique<Part>(aggregate, view, options);
    };
    return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(std::move(source_), std::move(chain_),
                                                                  std::move(key_), std::move(make_part), false, view);
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  A aggregate_;
};

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Windows, operators::Aggregation A>
class WindowedAggregation {
 public:
  WindowedAggregation(detail::SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, Windows windows,
                      std::int64_t allowed_lateness, A aggregate)
      : source_(std::move(source)), chain_(std::move(chain)), key_(std::move(key)), windows_(windows),
        allowed_lateness_(allowed_lateness), aggregate_(std::move(aggregate)) {}

  // Writes each (key, window) result into windowed view `view` when the watermark passes the
  // window's end.
  Job ToView(std::string view, ViewSinkOptions options = {}) && {
    using Part = detail::WindowAggregatePartition<T, K, A, Windows>;
    auto make_part = [aggregate = aggregate_, windows = windows_, lateness = allowed_lateness_, view, options](int) {
      return std::make_unique<Part>(aggregate, windows, lateness, view, options);
    };
    return detail::MakeJob<In, TimeFn, T, Chain, K, KeyFn, Part>(std::move(source_), std::move(chain_),
                                                                  std::move(key_), std::move(make_part), false, view);
  }

 private:
  detail::SourceSpec<In, TimeFn> source_;
  Chain chain_;
  KeyFn key_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  A aggregate_;
};

namespace detail {

template <class In, class TimeFn, class T, class Chain, class K, class KeyFn, class Part, class MakePart>
Job MakeJob(SourceSpec<In, TimeFn> source, Chain chain, KeyFn key, MakePart make_part, bool single_partition,
            std::string view) {
  std::string name = source.name;
  std::string log = source.log;
  const SourceOptions options = source.options;
  auto factory = [source = std::move(source), chain = std::move(chain), key = std::move(key),
                  make_part = std::move(make_part), single_partition](const JobContext& ctx, std::size_t batch) {
    JobContext c = ctx;
    if (single_partition) c.partitions = 1;
    using Plan = TypedPlan<In, TimeFn, T, Chain, K, KeyFn, Part>;
    return std::unique_ptr<JobPlan>(new Plan(source.name, source.time, source.max_out_of_orderness, chain, key,
                                             typename Plan::PartFactory(make_part), c, batch));
  };
  return Job(std::move(name), std::move(log), options, std::move(factory), std::move(view));
}

}  // namespace detail
}  // namespace kappa::engine
