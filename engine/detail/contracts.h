// The contracts between the builder (engine/pipeline.h), the keyed operators' partitions and the
// runtime (TypedPlan), as concepts: a type that breaks one is refused where it is used, with the
// requirement it misses.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/detail/job_plan.h"
#include "engine/detail/sinks.h"
#include "serving/status.h"

namespace kappa::engine::detail {

template <class T, class K>
struct SubBatch;

// Where a partition's results of type Out, keyed by K, go (engine/detail/sinks.h): opened per
// partition, given each result with its key, window start, event time and offset, finished after
// each batch, and checkpointed with the partition (Restore consumes its part; an empty input resets
// it to nothing written).
template <class S, class Out, class K>
concept ResultSink = requires(S sink, const JobContext& ctx, const K& key, const Out& out,
                              const SlotBase& slot, PartitionCounters& counters,
                              std::string* snapshot, std::string_view& in) {
  { sink.Open(ctx, 0, true) } -> std::same_as<serving::Status>;
  sink.Put(key, std::int64_t{}, std::int64_t{}, out, std::uint64_t{});
  sink.Finish(slot, counters);
  sink.Snapshot(snapshot);
  { sink.Restore(in) } -> std::same_as<serving::Status>;
};

// A keyed operator and its sink for one key partition, on records of type T keyed by K: opened
// once, given its sub-batch of each slot in log order, asked at the end of a bounded run to emit
// every open window, and checkpointed (an empty Restore input: nothing applied yet).
template <class P, class T, class K>
concept Partition = requires(P part, const JobContext& ctx, SubBatch<T, K>& batch,
                             const SlotBase& slot, PartitionCounters& counters,
                             std::string* snapshot, std::string_view in) {
  { part.Open(ctx, 0, true) } -> std::same_as<serving::Status>;
  part.Process(batch, slot, counters);
  part.FlushWindows(counters);
  part.Snapshot(snapshot);
  { part.Restore(in) } -> std::same_as<serving::Status>;
};

// A join until its sink is known (engine/detail/joins.h): its result type, whether its results
// are per window, and Make(sink), its partition writing into that sink.
template <class Op>
concept JoinOperator = requires(const Op op) {
  typename Op::Out;
  { Op::kWindowed } -> std::convertible_to<bool>;
};

}  // namespace kappa::engine::detail
