#include "tools/cli/metrics_recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "engine/metrics.h"
#include "tools/cli/args.h"
#include "tools/cli/text.h"

namespace kappa::tools {

MetricsRecorder::MetricsRecorder(const std::string& path, std::string source)
    : path_(path), source_(std::move(source)) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    throw CommandError("--metrics-out: " + path + ": " + std::strerror(errno) +
                       (errno == ELOOP ? " (a symbolic link: not followed)" : ""));
  file_ = ::fdopen(fd, "w");
  if (file_ == nullptr) {
    ::close(fd);
    throw CommandError("--metrics-out: " + path + ": " + std::strerror(errno));
  }
}

MetricsRecorder::~MetricsRecorder() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsRecorder::SampleJobs(const std::string& ns, const std::vector<std::string>& jobs,
                                 const std::string& series_prefix) {
  for (const std::string& name : jobs) {
    Job& job = jobs_[ns + '\0' + name];
    if (job.reader == nullptr) {
      auto reader = serving::ViewReader::Open(ns, engine::MetricsViewName(name));
      if (!reader.ok()) continue;  // not published yet
      job.reader = std::move(reader).value();
    }
    std::vector<std::byte> value(job.reader->value_size());
    std::uint64_t offset = 0;
    if (job.reader->Get(std::uint64_t{0}, value, &offset) != serving::ReadStatus::kOk) continue;
    const engine::MetricsRow m = engine::DecodeMetrics(job.reader->schema(), value);
    if (m.updated_unix_ns == job.last_published) continue;
    job.last_published = m.updated_unix_ns;
    std::string line = "{\"t_ns\":" + std::to_string(m.updated_unix_ns) + ",\"source\":";
    AppendJsonString(source_, &line);
    line += ",\"series\":";
    AppendJsonString(series_prefix + name, &line);
    auto number = [&](const char* key, auto v) {
      line.append(",\"").append(key).append("\":");
      if constexpr (std::is_floating_point_v<decltype(v)>) {
        AppendJsonDouble(v, &line);
      } else {
        line += std::to_string(v);
      }
    };
    number("records_in", m.records_in);
    number("records_processed", m.records_processed);
    number("results", m.results);
    number("records_per_s", m.records_per_s);
    number("lag_bytes", m.lag_bytes);
    number("watermark_ns", m.watermark_ns);
    number("latency_p50_ns", m.latency_p50_ns);
    number("latency_p99_ns", m.latency_p99_ns);
    number("latency_p999_ns", m.latency_p999_ns);
    number("latency_max_ns", m.latency_max_ns);
    number("latency_total_p99_ns", m.latency_total_p99_ns);
    number("replayed", m.replayed);
    number("late", m.late);
    line += "}\n";
    Write(line);
  }
}

void MetricsRecorder::Sample(const std::string& series, std::int64_t t_ns,
                             const std::vector<std::pair<const char*, double>>& values) {
  std::string line = "{\"t_ns\":" + std::to_string(t_ns) + ",\"source\":";
  AppendJsonString(source_, &line);
  line += ",\"series\":";
  AppendJsonString(series, &line);
  for (const auto& [key, value] : values) {
    line.append(",\"").append(key).append("\":");
    if (value == std::floor(value) && std::fabs(value) < 9.0e15) {  // a count: as an integer
      line += std::to_string(static_cast<std::int64_t>(value));
    } else {
      AppendJsonDouble(value, &line);
    }
  }
  line += "}\n";
  Write(line);
}

void MetricsRecorder::Write(const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size())
    throw CommandError("--metrics-out: " + path_ + ": " + std::strerror(errno));
  ++lines_;
}

void MetricsRecorder::Close() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
  const int error = errno;
  std::fclose(file_);
  file_ = nullptr;
  if (!ok) throw CommandError("--metrics-out: " + path_ + ": " + std::strerror(error));
}

}  // namespace kappa::tools
