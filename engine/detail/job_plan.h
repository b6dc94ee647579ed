// JobPlan: a pipeline compiled into the few steps the runtime drives, with record types erased,
// so that the flow graph (engine/engine.cc) never sees a user type and its header stays out of
// every other file.
//
// The runtime owns a fixed set of slots (the in-flight batches); each slot holds one source
// batch, its transformed records and one sub-batch per partition, all reused. Per slot:
//   Decode     the source thread, in log order: records of the source type into the slot,
//              with per-record watermarks; Accept then makes the slot's watermark the plan's
//              (a batch overwritten while it was decoded is dropped before, and read again);
//   Transform  any thread, slots in parallel: the stateless chain (filter, map, flat_map);
//   Split      one thread, slots in sequence order: records to partitions by key;
//   Process    one thread per partition, slots in sequence order: keyed operators and sinks.
// A pipeline whose keyed results feed another keyed operator has several stages: Split and
// Process again for each, on the results of the stage before.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/detail/latency_histogram.h"
#include "memlog/log_reader.h"
#include "serving/status.h"

namespace kappa::engine::detail {

struct SlotBase {
  virtual ~SlotBase() = default;
  std::uint64_t sequence = 0;
  std::uint64_t end_offset = 0;       // log offset just past the records read into the slot
  std::int64_t watermark = 0;         // after the slot's records
  std::uint64_t records_in = 0;       // records of the source type decoded
  std::int64_t oldest_append_ns = 0;  // the earliest log timestamp among the live ones (wall clock)
  std::uint64_t live_records = 0;     // records appended after the job started
  std::int64_t max_time = 0;          // the largest event time so far, after the slot's records
  std::uint64_t malformed = 0;        // records of the source type that did not decode
  std::atomic<int> pending{0};        // partitions still to process the slot
};

// Counters a partition keeps; read by any thread (relaxed).
struct PartitionCounters {
  std::atomic<std::uint64_t> records{0};         // records processed
  std::atomic<std::uint64_t> emitted{0};         // results written to the sink
  std::atomic<std::uint64_t> late{0};            // records no window accepted
  std::atomic<std::uint64_t> applied_offset{0};  // end offset of the last slot processed
  std::atomic<std::int64_t> watermark{0};
  std::atomic<std::uint64_t> replayed{0};  // records appended before the job started
  std::atomic<bool> failed{false};         // the partition failed: `failure` says why
  std::atomic<bool> failing{false};        // FailPartition's claim on `failure`
  std::string failure;                     // written once, before `failed` is set
  // From a batch's oldest log timestamp to the moment its results were written (the append
  // to view latency of that record, when producers stamp records with the wall clock), counted
  // once for each of the batch's records: an upper bound for each. Only records appended after
  // the job started (at or past CountLatencyFrom's offset) count; older ones are replayed.
  LatencyHistogram latency;
};

// Marks the partition failed (the first failure's reason stays). Called by the partition's thread.
inline void FailPartition(PartitionCounters& c, std::string why) {
  // (Partition p of each stage shares counters p: the first to fail writes the reason.)
  if (c.failing.exchange(true, std::memory_order_acq_rel)) return;
  c.failure = std::move(why);
  c.failed.store(true, std::memory_order_release);
}

class JobPlan {
 public:
  virtual ~JobPlan() = default;

  virtual const std::string& name() const = 0;
  // The partitions whose counters the job reports (the most any stage has).
  virtual int partitions() const = 0;
  // The keyed stages (a keyed operator whose results feed another is one stage, the other the
  // next), and each one's partitions.
  virtual int stages() const = 0;
  virtual int partitions(int stage) const = 0;

  // Creates sinks and partition state. Called once, before any slot. With `attach`, views
  // that exist already (a restart) are opened instead of refused.
  virtual serving::Status Open(bool attach) = 0;
  // Writes the job's state into `out`: the source's event-time state and each partition's
  // operator state and view contents. REQUIRES: no slot in flight.
  virtual void Snapshot(JobState* out) = 0;
  // Puts `state` back; a state without partitions resets the job to nothing applied.
  // REQUIRES: Open(true), no slot in flight.
  virtual serving::Status Restore(const JobState& state) = 0;

  // Everything before `offset` counts as applied: where the source starts reading (its start
  // position, or its checkpoint's). REQUIRES: no slot in flight.
  virtual void ResumeAt(std::uint64_t offset) = 0;
  // Records before log offset `offset` (the log's end when the job started: appended before it)
  // are counted as replayed rather than measured for latency. REQUIRES: no slot in flight.
  virtual void CountLatencyFrom(std::uint64_t offset) = 0;

  virtual std::unique_ptr<SlotBase> NewSlot() = 0;
  // Reads `records` (from the source log) into `slot`; sets its records_in. Called by one
  // thread, in log order. Changes nothing of the plan: the bytes may turn out to have been
  // overwritten while they were read.
  virtual void Decode(const memlog::RecordBatch& records, SlotBase* slot) = 0;
  // The slot's decoded records are the next in the log: their watermark and counters become
  // the plan's. Called after Decode, before the slot goes on.
  virtual void Accept(SlotBase* slot) = 0;
  virtual void Transform(SlotBase* slot) = 0;
  // Stage `stage` of the slot (each stage after the one before has processed the slot in every
  // partition), slots in sequence order: Split on one thread, then Process per partition.
  virtual void Split(int stage, SlotBase* slot) = 0;
  virtual void Process(int stage, int partition, SlotBase* slot) = 0;
  // Emits the results of every open window, as if the watermark had passed them all (the end
  // of a bounded run). REQUIRES: no slot in flight.
  virtual void FlushWindows() = 0;

  virtual const PartitionCounters& counters(int partition) const = 0;
  // Records skipped for a payload that did not match the source type's size.
  virtual std::uint64_t malformed() const = 0;
};

}  // namespace kappa::engine::detail
