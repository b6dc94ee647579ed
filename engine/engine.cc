#include "engine/engine.h"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <errno.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/files.h"
#include "engine/metrics.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "serving/namespace.h"
#include "serving/view_writer.h"

namespace kappa::engine {

namespace flow = oneapi::tbb::flow;

using detail::JobPlan;
using detail::SlotBase;

class Engine::Impl {
 public:
  EngineOptions options;
  // Held only with EngineOptions::raise_tbb_parallelism: the process-wide limit raised so that
  // the arena gets `threads` workers besides the threads that feed it.
  std::unique_ptr<oneapi::tbb::global_control> parallelism;
  int threads = 0;  // what the arena can have: Engine::threads()
  std::unique_ptr<oneapi::tbb::task_arena> arena;
  std::unique_ptr<serving::Namespace> ns;
};

// A job's metrics (engine/metrics.h), published as keyed view "metrics.<job>" (the version of
// the job's view) in the engine's namespace.
class MetricsView {
 public:
  Status Open(serving::Namespace& ns, const std::string& job, std::uint32_t version,
              int partitions) {
    schema_ = MetricsSchema();
    job_ = job;
    const std::string name = MetricsViewName(job);
    serving::KeyedTableOptions o;
    o.schema = schema_;
    o.key_name = "row";
    o.expected_keys = 70;
    auto w = serving::KeyedTableWriter::Create(ns, name, version, o);
    if (!w.ok() && w.status().code() == StatusCode::kAlreadyExists)
      w = serving::KeyedTableWriter::Open(ns, name, version);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    value_.resize(schema_.value_size());
    last_.assign(static_cast<std::size_t>(partitions), detail::LatencyHistogram::Counts{});
    return Status::Ok();
  }

  // Publishes the job's totals and each partition's counters. False (with *error) if the view
  // refused a row.
  bool Publish(const JobStats& s, std::uint64_t checkpoints, const JobPlan& plan,
               std::string* error) {
    if (!writer_) return true;
    result_ = serving::WriteResult::kOk;
    const std::int64_t now = serving::detail::UnixNs();
    const double rate = last_ns_ == 0 || now <= last_ns_
                            ? 0.0
                            : static_cast<double>(s.records_in - last_records_) * 1e9 /
                                  static_cast<double>(now - last_ns_);
    last_ns_ = now;
    last_records_ = s.records_in;
    std::vector<Latency> latency(static_cast<std::size_t>(plan.partitions()));
    Latency worst;
    for (std::size_t p = 0; p < latency.size(); ++p) {
      const detail::LatencyHistogram::Counts c = plan.counters(static_cast<int>(p)).latency.Read();
      latency[p] = Latency::Of(c, last_[p]);
      last_[p] = c;
      worst.MaxWith(latency[p]);
    }
    MetricsRow total;
    total.records_in = s.records_in;
    total.records_processed = s.records_processed;
    total.results = s.results;
    total.batches = s.batches;
    total.late = s.late;
    total.malformed = s.malformed;
    total.lost_bytes = s.lost_bytes;
    total.read_offset = s.read_offset;
    total.applied_offset = s.applied_offset;
    total.log_end = s.log_end;
    total.lag_bytes = s.lag_bytes();
    total.checkpoints = checkpoints;
    total.replayed = s.replayed;
    total.watermark_ns = s.watermark;
    total.records_per_s = rate;
    Write(0, total, worst, now);
    for (int p = 0; p < plan.partitions(); ++p) {
      const detail::PartitionCounters& c = plan.counters(p);
      MetricsRow part;
      part.records_processed = c.records.load(std::memory_order_relaxed);
      part.results = c.emitted.load(std::memory_order_relaxed);
      part.late = c.late.load(std::memory_order_relaxed);
      part.applied_offset = c.applied_offset.load(std::memory_order_relaxed);
      part.log_end = s.log_end;
      part.lag_bytes = s.log_end > part.applied_offset ? s.log_end - part.applied_offset : 0;
      part.replayed = c.replayed.load(std::memory_order_relaxed);
      part.watermark_ns = c.watermark.load(std::memory_order_relaxed);
      Write(static_cast<std::uint64_t>(p) + 1, part, latency[static_cast<std::size_t>(p)], now);
    }
    writer_->SetProgress(s.applied_offset, s.watermark);
    if (result_ == serving::WriteResult::kOk) return true;
    *error = "cannot write to view metrics." + job_ + ": " +
             serving::DescribeWriteResult(result_, writer_->grow_error());
    return false;
  }

 private:
  // One partition's latency, or the worst of several.
  struct Latency {
    std::uint64_t count = 0, p50 = 0, p99 = 0, p999 = 0, max = 0;  // since the previous publish
    std::uint64_t total_count = 0, total_p50 = 0, total_p99 = 0, total_p999 = 0;
    static Latency Of(const detail::LatencyHistogram::Counts& now,
                      const detail::LatencyHistogram::Counts& before) {
      using H = detail::LatencyHistogram;
      const H::Counts none;
      return Latency{now.count - before.count,
                     H::Percentile(now, before, 0.5),
                     H::Percentile(now, before, 0.99),
                     H::Percentile(now, before, 0.999),
                     H::Max(now, before),
                     now.count,
                     H::Percentile(now, none, 0.5),
                     H::Percentile(now, none, 0.99),
                     H::Percentile(now, none, 0.999)};
    }
    void MaxWith(const Latency& o) {
      count += o.count;
      total_count += o.total_count;
      for (auto [mine, theirs] :
           {std::pair{&p50, o.p50}, std::pair{&p99, o.p99}, std::pair{&p999, o.p999},
            std::pair{&max, o.max}, std::pair{&total_p50, o.total_p50},
            std::pair{&total_p99, o.total_p99}, std::pair{&total_p999, o.total_p999}})
        *mine = std::max(*mine, theirs);
    }
  };

  void Write(std::uint64_t key, MetricsRow row, const Latency& l, std::int64_t now) {
    row.latency_count = l.total_count;
    row.latency_p50_ns = static_cast<std::int64_t>(l.p50);
    row.latency_p99_ns = static_cast<std::int64_t>(l.p99);
    row.latency_p999_ns = static_cast<std::int64_t>(l.p999);
    row.latency_max_ns = static_cast<std::int64_t>(l.max);
    row.latency_total_p50_ns = static_cast<std::int64_t>(l.total_p50);
    row.latency_total_p99_ns = static_cast<std::int64_t>(l.total_p99);
    row.latency_total_p999_ns = static_cast<std::int64_t>(l.total_p999);
    row.updated_unix_ns = now;
    std::memcpy(value_.data(), &row, sizeof row);  // (the schema is MetricsRow's layout)
    if (const serving::WriteResult r = writer_->Upsert(key, value_, 0);
        r != serving::WriteResult::kOk)
      result_ = r;
  }

  serving::Schema schema_;
  std::unique_ptr<serving::KeyedTableWriter> writer_;
  std::vector<std::byte> value_;
  std::string job_;
  serving::WriteResult result_ = serving::WriteResult::kOk;
  std::vector<detail::LatencyHistogram::Counts> last_;  // each partition's at the previous publish
  std::int64_t last_ns_ = 0;
  std::uint64_t last_records_ = 0;
};

// One job: its log and reader, the source thread, and the graph
//   transform (unlimited) -> sequencer (by slot sequence) -> split (serial) -> partition p (serial)
// A slot enters at transform and is free again when the last partition has processed it.
class RunningJob::Impl {
 public:
  Impl(Engine::Impl* engine, std::unique_ptr<memlog::Log> log,
       std::unique_ptr<memlog::LogReader> reader, std::unique_ptr<JobPlan> plan, std::string name,
       std::string checkpoint_path, std::uint32_t view_version, bool restored)
      : engine_(engine),
        log_(std::move(log)),
        reader_(std::move(reader)),
        plan_(std::move(plan)),
        name_(std::move(name)),
        checkpoint_path_(std::move(checkpoint_path)),
        view_version_(view_version),
        restored_(restored) {}

  ~Impl() { Stop(); }

  // `before_flush`: the job was restored from the end of a bounded run (engine/checkpoint.h) into
  // the state after its flush; the state before it, to go on from if new records come.
  void Start(std::optional<JobState> before_flush) {
    before_flush_ = std::move(before_flush);
    plan_->ResumeAt(reader_->position());
    plan_->CountLatencyFrom(log_->latest_offset());
    const EngineOptions& o = engine_->options;
    batch_records_ = o.batch_records;
    low_latency_ = o.mode == Mode::kLowLatency;
    for (std::size_t i = 0; i < o.max_in_flight; ++i) {
      slots_.push_back(plan_->NewSlot());
      free_.enqueue(slots_.back().get());
    }
    engine_->arena->execute([&] { BuildGraph(); });
    source_ = std::thread([this] { SourceLoop(); });
  }

  void Stop() { Halt(/*checkpoint=*/true); }

  // Stops reading, waits for the batches in flight and publishes the final metrics; a clean
  // stop (nothing failed) leaves a checkpoint right there if `checkpoint`. Idempotent.
  void Halt(bool checkpoint) {
    std::call_once(stop_once_, [&] {
      stopping_.store(true, std::memory_order_release);
      if (source_.joinable()) source_.join();
      engine_->arena->execute([&] { graph_->wait_for_all(); });
      CheckPartitions();
      CommitApplied();
      if (checkpoint && !checkpoint_path_.empty() && !failed_.load(std::memory_order_acquire))
        TakeCheckpoint();
      PublishMetrics();
    });
  }

  Status OpenMetrics(serving::Namespace& ns) {
    return metrics_.Open(ns, name_, view_version_, plan_->partitions());
  }
  static constexpr std::chrono::milliseconds kMetricsInterval{200};
  // How long an idle source sleeps before it looks at metrics, checkpoints and a stop request.
  static constexpr std::chrono::milliseconds kIdleWait{20};

  std::uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }
  bool restored() const { return restored_; }

  // The end of a bounded run. With checkpoints, the state before the flush is kept beside the
  // one after it (engine/checkpoint.h): a later run over the same log finds its views as the
  // flush left them; one over a grown log continues the windows the flush emitted.
  void FlushWindows() {
    Halt(/*checkpoint=*/false);
    std::lock_guard<std::mutex> lock(flush_mu_);
    const bool checkpointing =
        !checkpoint_path_.empty() && !failed_.load(std::memory_order_acquire);
    if (checkpointing && !before_flush_) {
      before_flush_.emplace();
      plan_->Snapshot(&*before_flush_);
    }
    plan_->FlushWindows();
    CheckPartitions();
    if (checkpointing && !failed_.load(std::memory_order_acquire)) TakeCheckpoint();
    PublishMetrics();
  }

  bool WaitCaughtUp(std::chrono::nanoseconds timeout) {
    const std::uint64_t target = log_->latest_offset();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int spins = 0;; ++spins) {
      CheckPartitions();
      if (failed_.load(std::memory_order_acquire)) return false;
      if (AppliedOffset() >= target) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (spins < 100) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
  }

  JobStats Stats() const {
    JobStats s;
    s.batches = batches_.load(std::memory_order_relaxed);
    s.records_in = records_in_.load(std::memory_order_relaxed);
    s.lost_bytes = lost_bytes_.load(std::memory_order_relaxed);
    s.malformed = plan_->malformed();
    s.read_offset = read_offset_.load(std::memory_order_relaxed);
    s.log_end = log_->latest_offset();
    s.applied_offset = AppliedOffset();
    s.watermark = std::numeric_limits<std::int64_t>::max();
    for (int p = 0; p < plan_->partitions(); ++p) {
      const detail::PartitionCounters& c = plan_->counters(p);
      s.records_processed += c.records.load(std::memory_order_relaxed);
      s.results += c.emitted.load(std::memory_order_relaxed);
      s.late += c.late.load(std::memory_order_relaxed);
      s.watermark = std::min(s.watermark, c.watermark.load(std::memory_order_relaxed));
      s.latency_p50_ns =
          std::max(s.latency_p50_ns, static_cast<std::int64_t>(c.latency.Percentile(0.5)));
      s.latency_p99_ns =
          std::max(s.latency_p99_ns, static_cast<std::int64_t>(c.latency.Percentile(0.99)));
      s.latency_p999_ns =
          std::max(s.latency_p999_ns, static_cast<std::int64_t>(c.latency.Percentile(0.999)));
      s.latency_max_ns = std::max(s.latency_max_ns, static_cast<std::int64_t>(c.latency.max()));
      s.replayed += c.replayed.load(std::memory_order_relaxed);
    }
    return s;
  }

  Status status() const {
    CheckPartitions();
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  const std::string& name() const { return name_; }

 private:
  // acquire: the partition's sink writes are done before its applied offset moved.
  std::uint64_t AppliedOffset() const {
    std::uint64_t applied = UINT64_MAX;
    for (int p = 0; p < plan_->partitions(); ++p)
      applied =
          std::min(applied, plan_->counters(p).applied_offset.load(std::memory_order_acquire));
    return applied;
  }

  // transform → for each stage: sequencer → split → one node per partition. The last partition
  // of a stage to finish a slot passes it on to the next stage (or frees it).
  void BuildGraph() {
    graph_ = std::make_unique<flow::graph>();
    transform_ = std::make_unique<flow::function_node<SlotBase*, SlotBase*>>(
        *graph_, flow::unlimited, [this](SlotBase* s) {
          plan_->Transform(s);
          return s;
        });
    stages_.resize(static_cast<std::size_t>(plan_->stages()));
    for (int stage = 0; stage < plan_->stages(); ++stage) {
      StageNodes& nodes = stages_[static_cast<std::size_t>(stage)];
      const bool last = stage + 1 == plan_->stages();
      nodes.sequencer = std::make_unique<flow::sequencer_node<SlotBase*>>(
          *graph_, [](SlotBase* const& s) { return static_cast<std::size_t>(s->sequence); });
      for (int p = 0; p < plan_->partitions(stage); ++p) {
        nodes.partitions.push_back(
            std::make_unique<flow::function_node<SlotBase*, flow::continue_msg>>(
                *graph_, flow::serial, [this, stage, p, last](SlotBase* s) {
                  plan_->Process(stage, p, s);
                  // acq_rel: the last partition sees every other partition's work on the slot.
                  if (s->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                    if (last) {
                      free_.enqueue(s);
                    } else {
                      stages_[static_cast<std::size_t>(stage) + 1].sequencer->try_put(s);
                    }
                  }
                  return flow::continue_msg();
                }));
      }
      nodes.split = std::make_unique<flow::function_node<SlotBase*, flow::continue_msg>>(
          *graph_, flow::serial, [this, stage](SlotBase* s) {
            StageNodes& n = stages_[static_cast<std::size_t>(stage)];
            plan_->Split(stage, s);
            s->pending.store(static_cast<int>(n.partitions.size()), std::memory_order_relaxed);
            for (auto& node : n.partitions) node->try_put(s);
            return flow::continue_msg();
          });
      flow::make_edge(*nodes.sequencer, *nodes.split);
    }
    flow::make_edge(*transform_, *stages_[0].sequencer);
  }

  // Reads the log into free slots and feeds them to the graph, until stopped.
  void SourceLoop() {
    memlog::RecordBatch batch;
    std::uint64_t sequence = 0;
    std::uint32_t idle = 0;
    const auto interval = engine_->options.checkpoint_interval;
    auto next_checkpoint = std::chrono::steady_clock::now() + interval;
    auto next_metrics = std::chrono::steady_clock::now();
    while (!stopping_.load(std::memory_order_acquire)) {
      CheckPartitions();
      if (failed_.load(std::memory_order_acquire)) return;  // nothing more is applied
      if (std::chrono::steady_clock::now() >= next_metrics) {
        PublishMetrics();
        next_metrics = std::chrono::steady_clock::now() + kMetricsInterval;
      }
      if (!checkpoint_path_.empty() && std::chrono::steady_clock::now() >= next_checkpoint) {
        if (!QuiesceAndCheckpoint()) return;
        next_checkpoint = std::chrono::steady_clock::now() + interval;
      }
      SlotBase* slot = nullptr;
      if (!free_.wait_dequeue_timed(slot, std::chrono::milliseconds(5)))
        continue;  // to notice a stop
      CommitApplied();
      const memlog::PollStatus st = low_latency_ ? reader_->Poll(&batch, batch_records_)
                                                 : reader_->Wait(&batch, kIdleWait, batch_records_);
      if (st != memlog::PollStatus::kOk) {
        free_.enqueue(slot);
        if (st == memlog::PollStatus::kLapped || st == memlog::PollStatus::kExpired) {
          // Overwritten before it was read (a log without an archive), or deleted by the
          // archive's retention: counted, never silent.
          lost_bytes_.fetch_add(reader_->last_lost_bytes(), std::memory_order_relaxed);
        } else if (st == memlog::PollStatus::kCorrupt) {
          Fail(Status::Error(StatusCode::kCorrupt, !reader_->error().empty()
                                                       ? reader_->error()
                                                       : log_->path() +
                                                             ": corrupt record at offset " +
                                                             std::to_string(reader_->position())));
          return;
        } else if (low_latency_) {
          Backoff(&idle);
        }
        continue;
      }
      idle = 0;
      if (before_flush_) {
        // Records past the end of a bounded run: go on from the state before its flush (no slot
        // is in flight: none was sent since the job started).
        if (Status s = plan_->Restore(*before_flush_); !s.ok()) {
          free_.enqueue(slot);
          Fail(Status::Error(s.code(), "job " + name_ + ": " + s.message()));
          return;
        }
        before_flush_.reset();
      }
      plan_->Decode(batch, slot);
      if (!reader_->StillValid(batch)) {
        // Overwritten while it was decoded: what was read cannot be trusted. A log with an
        // archive still has it there; any other has lost it.
        if (log_->has_archive()) {
          reader_->ReadAgain(batch);
        } else {
          lost_bytes_.fetch_add(batch.end_offset() - batch.begin_offset(),
                                std::memory_order_relaxed);
        }
        free_.enqueue(slot);
        continue;
      }
      plan_->Accept(slot);
      slot->sequence = sequence++;
      CommitApplied();
      batches_.fetch_add(1, std::memory_order_relaxed);
      records_in_.fetch_add(slot->records_in, std::memory_order_relaxed);
      read_offset_.store(batch.end_offset(), std::memory_order_relaxed);
      if (low_latency_) {
        // Run to completion: this thread works the batch through the graph (workers may help).
        engine_->arena->execute([&] {
          transform_->try_put(slot);
          graph_->wait_for_all();
        });
      } else {
        transform_->try_put(slot);
      }
    }
  }

  // Takes every slot back (waiting for the graph to finish them), checkpoints, and lets the
  // slots go again. False if the job is stopping or the checkpoint failed.
  bool QuiesceAndCheckpoint() {
    std::vector<SlotBase*> held;
    while (held.size() < slots_.size()) {
      SlotBase* s = nullptr;
      if (free_.wait_dequeue_timed(s, std::chrono::milliseconds(5))) {
        held.push_back(s);
      } else if (stopping_.load(std::memory_order_acquire)) {
        break;
      }
    }
    const bool whole = held.size() == slots_.size();
    if (whole) TakeCheckpoint();
    for (SlotBase* s : held) free_.enqueue(s);
    return whole && !failed_.load(std::memory_order_acquire);
  }

  // REQUIRES: no slot in flight, and the source not reading (its thread, or stopped).
  void TakeCheckpoint() {
    // Never past a result a sink refused: a restart must apply it again.
    CheckPartitions();
    if (failed_.load(std::memory_order_acquire)) return;
    Checkpoint c;
    plan_->Snapshot(&c.state);
    c.job = name_;
    c.log_identity = log_->identity();
    c.view_version = view_version_;
    c.source_offset = reader_->position();
    c.before_flush = before_flush_;
    if (Status s = WriteCheckpoint(checkpoint_path_, c); !s.ok()) {
      Fail(Status::Error(s.code(), "job " + name_ + ": checkpoint failed: " + s.message()));
      return;
    }
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
  }

  // A named cursor records what every partition has applied (not what the source has read).
  void CommitApplied() {
    if (reader_->cursor_name().empty() || failed_.load(std::memory_order_acquire)) return;
    const std::uint64_t applied = AppliedOffset();
    if (applied == committed_ || applied == 0) return;
    reader_->CommitCursorAt(applied);
    committed_ = applied;
  }

  // Spin a little, then yield, then sleep: an idle source should not hold a core.
  void Backoff(std::uint32_t* idle) const {
    ++*idle;
    if (low_latency_ && *idle < 1u << 20) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    } else if (*idle < 1000) {
      sched_yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  void PublishMetrics() {
    std::string error;
    if (!metrics_.Publish(Stats(), checkpoints(), *plan_, &error))
      Fail(Status::Error(StatusCode::kIoError, "job " + name_ + ": " + error));
  }

  // A partition that failed (a sink that could not take a result) fails the job.
  void CheckPartitions() const {
    for (int p = 0; p < plan_->partitions(); ++p) {
      const detail::PartitionCounters& c = plan_->counters(p);
      // acquire: `failure` was written before `failed` was set.
      if (c.failed.load(std::memory_order_acquire))
        Fail(Status::Error(StatusCode::kIoError, "job " + name_ + ": " + c.failure));
    }
  }

  void Fail(Status s) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.ok()) status_ = std::move(s);
    failed_.store(true, std::memory_order_release);
  }

  Engine::Impl* engine_;
  std::unique_ptr<memlog::Log> log_;
  std::unique_ptr<memlog::LogReader> reader_;
  std::unique_ptr<JobPlan> plan_;
  std::string name_;
  std::size_t batch_records_ = 4096;
  bool low_latency_ = false;

  std::vector<std::unique_ptr<SlotBase>> slots_;
  // Free slots. The source waits on it (spinning briefly, then blocking) when all are in flight.
  moodycamel::BlockingConcurrentQueue<SlotBase*> free_;

  std::unique_ptr<flow::graph> graph_;
  std::unique_ptr<flow::function_node<SlotBase*, SlotBase*>> transform_;
  struct StageNodes {
    std::unique_ptr<flow::sequencer_node<SlotBase*>> sequencer;
    std::unique_ptr<flow::function_node<SlotBase*, flow::continue_msg>> split;
    std::vector<std::unique_ptr<flow::function_node<SlotBase*, flow::continue_msg>>> partitions;
  };
  std::vector<StageNodes> stages_;

  std::thread source_;
  std::atomic<bool> stopping_{false};
  std::once_flag stop_once_;
  mutable std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  mutable Status status_;  // guarded by mu_

  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> records_in_{0};
  std::atomic<std::uint64_t> lost_bytes_{0};
  std::atomic<std::uint64_t> read_offset_{0};
  std::uint64_t committed_ = 0;  // the source thread's
  std::string checkpoint_path_;  // empty: no checkpoints
  std::uint32_t view_version_;
  bool restored_;
  std::atomic<std::uint64_t> checkpoints_{0};
  // Set while the job's state is the end of a bounded run (restored or just flushed): the state
  // before that flush. The source thread's, then Halt's and FlushWindows'.
  std::optional<JobState> before_flush_;
  std::mutex flush_mu_;  // FlushWindows from several threads at once
  MetricsView metrics_;  // the source thread's (then Halt's and FlushWindows')
};

RunningJob::RunningJob(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RunningJob::~RunningJob() = default;
const std::string& RunningJob::name() const { return impl_->name(); }
JobStats RunningJob::Stats() const { return impl_->Stats(); }
bool RunningJob::WaitCaughtUp(std::chrono::nanoseconds timeout) {
  return impl_->WaitCaughtUp(timeout);
}
void RunningJob::Stop() { impl_->Stop(); }
void RunningJob::FlushWindows() { impl_->FlushWindows(); }
Status RunningJob::status() const { return impl_->status(); }
std::uint64_t RunningJob::checkpoints() const { return impl_->checkpoints(); }
bool RunningJob::restored() const { return impl_->restored(); }

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  EngineOptions& o = impl->options;
  o = options;
  if (o.threads <= 0)
    o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.partitions <= 0)
    o.partitions = static_cast<int>(std::bit_ceil(static_cast<unsigned>(o.threads)));
  if (o.partitions > 64 || !std::has_single_bit(static_cast<unsigned>(o.partitions)))
    return Status::Error(StatusCode::kInvalidArgument,
                         "engine: partitions must be a power of two from 1 to 64, not " +
                             std::to_string(o.partitions));
  if (o.batch_records == 0) o.batch_records = o.mode == Mode::kLowLatency ? 64 : 16384;
  if (o.max_in_flight == 0)
    return Status::Error(StatusCode::kInvalidArgument, "engine: max_in_flight must be > 0");
  if (o.view_version == 0)
    return Status::Error(StatusCode::kInvalidArgument, "engine: view versions start at 1");
  if (!o.checkpoint_dir.empty()) {
    // Created if missing; refused if another user owns it or others may write in it.
    auto dir = base::OpenDirectory(o.checkpoint_dir, base::DirectoryUse::kPrivate, /*create=*/true);
    if (!dir.ok()) return dir.status().WithPrefix("engine: checkpoint directory: ");
    ::close(*dir);
    if (o.checkpoint_interval.count() <= 0)
      return Status::Error(StatusCode::kInvalidArgument, "engine: checkpoint interval must be > 0");
  }
  auto ns = serving::Namespace::Open(o.view_namespace);
  if (!ns.ok()) return ns.status();
  impl->ns = std::move(ns).value();
  // What a writer killed while creating a view left behind goes before new views come.
  if (auto swept = impl->ns->RemoveOrphans(); !swept.ok()) return swept.status();
  // oneTBB gives a process max_allowed_parallelism - 1 worker threads (one per CPU, less one, by
  // default). The engine raises that limit only when told to (EngineOptions says so).
  using oneapi::tbb::global_control;
  const std::size_t wanted = static_cast<std::size_t>(o.threads) + 1;
  if (o.raise_tbb_parallelism &&
      global_control::active_value(global_control::max_allowed_parallelism) < wanted)
    impl->parallelism =
        std::make_unique<global_control>(global_control::max_allowed_parallelism, wanted);
  // Throughput: every slot goes to `threads` workers; the source threads feed the arena from
  // outside it. Low latency: a source thread takes a slot of the arena and works each batch
  // through the graph itself, so that no batch waits for a worker to wake up; it counts as one
  // of the `threads` (with 1, there are no workers at all: no thread to wake, none to compete
  // for a core).
  const int masters = o.mode == Mode::kLowLatency ? 1 : 0;
  const auto workers_allowed = static_cast<int>(std::min<std::size_t>(
      global_control::active_value(global_control::max_allowed_parallelism) - 1, 1 << 20));
  impl->threads = masters + std::min(o.threads - masters, workers_allowed);
  if (impl->threads < 1)
    return Status::Error(
        StatusCode::kFailedPrecondition,
        "engine: oneTBB allows this process no worker thread (its max_allowed_parallelism is 1), "
        "and a throughput-mode engine needs one: set EngineOptions::raise_tbb_parallelism, or "
        "use Mode::kLowLatency");
  // Sized to what it can have: asking for more makes oneTBB warn on stderr.
  impl->arena = std::make_unique<oneapi::tbb::task_arena>(impl->threads, masters);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
const EngineOptions& Engine::options() const { return impl_->options; }
int Engine::threads() const { return impl_->threads; }

Result<std::unique_ptr<RunningJob>> Engine::Start(const Job& job) {
  return Start(job, impl_->options.view_version);
}

serving::Namespace& Engine::views() { return *impl_->ns; }

Result<std::unique_ptr<RunningJob>> Engine::Reprocess(const Job& job, const ReprocessOptions& ro) {
  auto fail = [&](const std::string& what) {
    return Status::Error(StatusCode::kFailedPrecondition, "reprocess " + job.name() + ": " + what);
  };
  if (job.view().empty()) return fail("it writes a log, which cannot be replaced by a new version");
  // 1. The next version of the view: one past every version that exists (the files of one that
  // a killed reprocess had started go first).
  if (auto swept = impl_->ns->RemoveOrphans(); !swept.ok()) return swept.status();
  std::uint32_t version = 1;
  if (auto listing = impl_->ns->Describe(job.view()); listing.ok()) {
    for (const serving::VersionListing& v : listing->versions)
      version = std::max(version, v.version + 1);
  }
  // 2. Run it from the job's start (the earliest record by default) into that version.
  auto running = Start(job, version);
  if (!running.ok()) return running.status();
  // 3. Report progress until it has caught up with the live log.
  const auto deadline = std::chrono::steady_clock::now() + ro.timeout;
  for (;;) {
    const JobStats stats = (*running)->Stats();
    if (ro.progress) ro.progress(stats);
    if (!(*running)->status().ok()) return (*running)->status();
    if (stats.lag_bytes() <= ro.max_lag_bytes) break;
    if (std::chrono::steady_clock::now() > deadline)
      return fail("version " + std::to_string(version) + " did not catch up in time (" +
                  std::to_string(stats.lag_bytes()) + " bytes behind)");
    (*running)->WaitCaughtUp(ro.progress_interval);
  }
  // 4. Flip readers to it (the previous version stays for Revert until retired), and the job's
  // metrics with it, so that `kappa stats` and `top` show the version that serves.
  if (Status s = impl_->ns->Flip(job.view(), version); !s.ok()) return s;
  if (Status s = impl_->ns->Flip(MetricsViewName(job.name()), version); !s.ok()) return s;
  return running;
}

Result<std::unique_ptr<RunningJob>> Engine::Start(const Job& job, std::uint32_t view_version) {
  if (!job.error().empty()) return Status::Error(StatusCode::kInvalidArgument, job.error());
  EngineOptions o = impl_->options;
  o.view_version = view_version;
  const SourceOptions& source = job.source();
  memlog::OpenOptions lo;
  // Writable (it never appends): an idle source sleeps on the log's wake line, which it must
  // announce itself on, and a cursor is committed into the log.
  lo.read_only = false;
  lo.populate = true;  // the job reads all of it: no page faults on the way
  auto log = memlog::Log::Open(memlog::Log::ResolvePath(job.log()), lo);
  if (!log.ok() && log.status().code() == StatusCode::kPermissionDenied && source.cursor.empty()) {
    // A log this user may only read (0400, a read-only mount) still feeds a job without a
    // cursor: its idle source polls every millisecond instead of sleeping on the wake line.
    lo.read_only = true;
    log = memlog::Log::Open(memlog::Log::ResolvePath(job.log()), lo);
  }
  if (!log.ok()) return log.status().WithPrefix("job " + job.name() + ": ");
  auto reader = source.cursor.empty() ? (*log)->NewReader(source.start)
                                      : (*log)->OpenCursor(source.cursor, source.start);
  if (!reader.ok()) return reader.status().WithPrefix("job " + job.name() + ": ");
  JobContext ctx;
  ctx.ns = impl_->ns.get();
  ctx.partitions = o.partitions;
  ctx.view_version = o.view_version;
  std::unique_ptr<JobPlan> plan = job.MakePlan(ctx, o.batch_records);
  const bool checkpointing = !o.checkpoint_dir.empty();
  auto fail = [&](const Status& s) { return s.WithPrefix("job " + job.name() + ": "); };
  if (Status s = plan->Open(/*attach=*/checkpointing); !s.ok()) return fail(s);
  std::string checkpoint_path;
  bool restored = false;
  std::optional<JobState> before_flush;
  if (checkpointing) {
    checkpoint_path =
        o.checkpoint_dir + "/" + job.name() + "@" + std::to_string(o.view_version) + ".ckpt";
    auto c = ReadCheckpoint(checkpoint_path);
    if (!c.ok() && c.status().code() != StatusCode::kNotFound) return fail(c.status());
    if (c.ok() && (c->job != job.name() || c->view_version != o.view_version))
      return fail(Status::Error(
          StatusCode::kCorrupt,
          checkpoint_path + ": belongs to job " + c->job + "@" + std::to_string(c->view_version)));
    if (c.ok() && c->log_identity != (*log)->identity())
      return fail(Status::Error(
          StatusCode::kFailedPrecondition,
          checkpoint_path + " was taken on another log (identity " + c->log_identity +
              "), not on " + (*log)->path() + " (identity " + (*log)->identity() +
              "): use another checkpoint directory, or delete it to start the job over"));
    // No checkpoint: whatever an earlier run left in the views goes, and the job starts over.
    const JobState none;
    if (Status s = plan->Restore(c.ok() ? c->state : none); !s.ok()) return fail(s);
    if (c.ok()) {
      if (memlog::Status s = (*reader)->Seek(memlog::StartAt::Offset(c->source_offset)); !s.ok())
        return fail(Status::Error(StatusCode::kFailedPrecondition,
                                  "its checkpoint resumes at offset " +
                                      std::to_string(c->source_offset) +
                                      ", which the log no longer holds: " + s.message()));
      restored = true;
      before_flush = std::move(c->before_flush);
    }
  }
  auto impl = std::make_unique<RunningJob::Impl>(
      impl_.get(), std::move(log).value(), std::move(reader).value(), std::move(plan), job.name(),
      std::move(checkpoint_path), o.view_version, restored);
  if (Status s = impl->OpenMetrics(*impl_->ns); !s.ok()) return fail(s);
  impl->Start(std::move(before_flush));
  return std::unique_ptr<RunningJob>(new RunningJob(std::move(impl)));
}

}  // namespace kappa::engine
