// MetricsRecorder: the measurements a command takes while it runs, written as a time series of
// JSON lines (`--metrics-out FILE`) that `kappa report` charts. One object per sample:
//
//   {"t_ns":1796348133683319325,"source":"run","series":"q5","records_in":1200000,
//    "records_per_s":4.1e6,"lag_bytes":0,"watermark_ns":...,"latency_p50_ns":81000,
//    "latency_p99_ns":240000,"latency_p999_ns":410000,"latency_max_ns":900000,
//    "latency_total_p99_ns":260000,"replayed":0}
//
// t_ns is the Unix time of the sample; "source" the command ("run", "tour", "demo"); "series"
// what was measured (a job; the log, for the demo); every other member a number. A job is sampled
// from the metrics view it publishes (engine/metrics.h): a line each time the job has published
// anew, so the latency percentiles are those of each publish interval (about 200 ms).
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "serving/view_reader.h"

namespace kappa::tools {

class MetricsRecorder {
 public:
  // Writes to `path` (created, or emptied; never through a symbolic link). Throws CommandError.
  MetricsRecorder(const std::string& path, std::string source);
  ~MetricsRecorder();
  MetricsRecorder(const MetricsRecorder&) = delete;
  MetricsRecorder& operator=(const MetricsRecorder&) = delete;

  // A line per job of `jobs` whose metrics view in namespace `ns` was published since the last
  // call, under the series `series_prefix` + job. A job without a metrics view yet is skipped.
  void SampleJobs(const std::string& ns, const std::vector<std::string>& jobs,
                  const std::string& series_prefix = "");
  // A line of the series `series` at Unix time `t_ns` with the values given.
  void Sample(const std::string& series, std::int64_t t_ns,
              const std::vector<std::pair<const char*, double>>& values);
  // Flushes what was written. Throws CommandError if the file could not take it.
  void Close();

  std::uint64_t lines() const { return lines_; }

 private:
  struct Job {
    std::unique_ptr<serving::ViewReader> reader;
    std::int64_t last_published = 0;
  };

  void Write(const std::string& line);

  std::string path_;
  std::string source_;
  std::FILE* file_ = nullptr;
  std::map<std::string, Job> jobs_;  // by ns + '\0' + job
  std::uint64_t lines_ = 0;
};

}  // namespace kappa::tools
