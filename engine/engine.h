// Engine: runs jobs (engine/pipeline.h) as oneTBB flow graphs over memlog logs, into serving
// views.
//
//   auto engine = std::move(Engine::Create({.threads = 2})).value();
//   auto running = std::move(engine->Start(job)).value();
//   running->WaitCaughtUp(std::chrono::seconds(10));   // everything appended so far is applied
//   JobStats s = running->Stats();
//   running->Stop();
//
// Each job: a source thread reads the log in batches and feeds the job's graph, holding at most
// max_in_flight batches in it (slots recycled, so nothing is allocated per record); stateless
// steps run on any worker thread; one node per key partition, fed in log order through a
// sequencer, owns that partition's state and writes its shard of the job's views. Several jobs,
// over one log or several, share the engine's worker threads.
//
// Thread safety: Engine and RunningJob methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/pipeline.h"
#include "serving/status.h"

namespace kappa::engine {

using serving::Result;
using serving::Status;
using serving::StatusCode;

enum class Mode {
  kThroughput,  // large batches; the source waits (yields, then sleeps) when the log is idle
  kLowLatency,  // small batches; the source spins on the log and works each batch through the
                // graph itself (run to completion), helped by the other threads
};

struct EngineOptions {
  // Threads that process batches; 0: one per CPU. In low latency mode a job's source thread is
  // one of them. The workers among them are oneTBB's, which allows a process
  // max_allowed_parallelism - 1 worker threads (one per CPU, less one, unless the program set
  // it): the engine gets at most that many (Engine::threads() says how many it has) and leaves
  // the process-wide limit alone, unless raise_tbb_parallelism says otherwise.
  int threads = 0;
  // true: while the Engine lives, it raises oneTBB's max_allowed_parallelism for the whole
  // process to threads + 1 when it is lower (a tbb::global_control it holds), so that all
  // `threads` run besides the threads that feed them. For a program that owns its process (the
  // `kappa` program does this); a library embedding the engine leaves it off.
  bool raise_tbb_parallelism = false;
  int partitions = 0;                      // key partitions per job, a power of two up to 64;
                                           // 0: the worker threads, rounded up
  std::string view_namespace = "default";  // where job views go (a name or a directory)
  std::uint32_t view_version = 1;          // the version of the views jobs create
  Mode mode = Mode::kThroughput;
  std::size_t batch_records = 0;  // records per batch at most; 0: 16384, or 64 in low latency
  std::size_t max_in_flight = 8;  // batches in a job's graph at once
  // Exactly-once: where jobs keep checkpoints ("<job>@<view version>.ckpt"); empty: none. With
  // checkpoints, a job started again resumes from its last one (views and operator state put
  // back, the log replayed from there), so its views end as one uninterrupted run's would.
  std::string checkpoint_dir;
  std::chrono::milliseconds checkpoint_interval{1000};
};

struct JobStats {
  std::uint64_t batches = 0;            // read from the log
  std::uint64_t records_in = 0;         // records of the source type read
  std::uint64_t records_processed = 0;  // records that reached a keyed operator or sink
  std::uint64_t results = 0;            // results written to sinks
  std::uint64_t late = 0;               // records no window accepted
  std::uint64_t malformed = 0;          // records of the source type with the wrong size
  std::uint64_t lost_bytes = 0;         // overwritten before they were read (Overwrite logs)
  std::uint64_t read_offset = 0;        // where the source reads next
  std::uint64_t applied_offset = 0;     // everything before it is applied (slowest partition)
  std::uint64_t log_end = 0;            // the log's latest offset
  std::int64_t watermark = 0;           // the slowest partition's
  // Records processed that were appended to the log before the job started (a replay): their
  // age is not a delay, so they count here and not in the latency below.
  std::uint64_t replayed = 0;
  // Append to view latency (each record's log timestamp, as producers stamp it with the wall
  // clock, to its batch's results written) of the records appended while the job ran, since it
  // started; the worst partition's percentiles; 0 before any. (The metrics view also has them
  // over each publish interval.)
  std::int64_t latency_p50_ns = 0;
  std::int64_t latency_p99_ns = 0;
  std::int64_t latency_p999_ns = 0;
  std::int64_t latency_max_ns = 0;
  std::uint64_t lag_bytes() const {
    return log_end > applied_offset ? log_end - applied_offset : 0;
  }
};

class RunningJob {
 public:
  ~RunningJob();  // stops the job
  RunningJob(const RunningJob&) = delete;
  RunningJob& operator=(const RunningJob&) = delete;

  const std::string& name() const;
  JobStats Stats() const;
  // Waits until every record appended before the call is applied to the job's sinks. False on
  // timeout, or if the job failed (status() says why).
  bool WaitCaughtUp(std::chrono::nanoseconds timeout);
  // Stops reading and waits for the batches in flight. Idempotent.
  void Stop();
  // Emits the results of every open window, as if the watermark had passed them (the end of a
  // bounded run). Stops the job first.
  void FlushWindows();
  // Ok, or why the job stopped on its own (a corrupt log, a failed sink, a failed checkpoint).
  Status status() const;
  // Checkpoints taken, and whether the job resumed from one when it started.
  std::uint64_t checkpoints() const;
  bool restored() const;

  class Impl;

 private:
  friend class Engine;
  explicit RunningJob(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ReprocessOptions {
  // Flip once the new version is within this many bytes of the log's end (0: fully caught up).
  std::uint64_t max_lag_bytes = 0;
  // Give up (the new version keeps running; nothing is flipped) after this long.
  std::chrono::nanoseconds timeout = std::chrono::minutes(30);
  // Called about every progress_interval while the new version catches up.
  std::function<void(const JobStats&)> progress;
  std::chrono::milliseconds progress_interval{100};
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineOptions& options() const;
  // The threads that process batches: options().threads, or fewer when oneTBB's process-wide
  // limit allows fewer workers (see EngineOptions::raise_tbb_parallelism).
  int threads() const;
  // Opens the job's log, creates its views (version options().view_version, one shard per
  // partition) and starts it. Fails if the log cannot be opened or a view version exists.
  Result<std::unique_ptr<RunningJob>> Start(const Job& job);
  // The same, writing version `view_version` of the job's views.
  Result<std::unique_ptr<RunningJob>> Start(const Job& job, std::uint32_t view_version);

  // Kappa reprocessing, the four steps in one call: starts `job` (a new definition, typically)
  // as the next version of its view (one past the highest that exists), reading its log from the
  // job's start position (the earliest retained record, by default) while the current version
  // keeps serving; reports progress; once the new version has caught up with the live log,
  // flips the view's alias to it, so that readers move over on their next read. Returns the
  // running new version; the old version's job is the caller's to stop, and its view stays for
  // an instant Namespace::Revert until it is retired. A job that writes a log cannot be
  // reprocessed (a log cannot be replaced).
  Result<std::unique_ptr<RunningJob>> Reprocess(const Job& job,
                                                const ReprocessOptions& options = {});
  // The namespace the engine's views live in.
  serving::Namespace& views();

  class Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kappa::engine
