// Helpers shared by the benchmarks: CPU pinning, unique /dev/shm paths, a mapped scratch file,
// a monotonic clock and nearest-rank percentiles.
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kappa::bench {

// Pins the calling thread to `cpu`. Returns false (leaving the thread as it was) if it cannot.
inline bool PinThisThread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

inline int OnlineCpus() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

// "/dev/shm/kappa-bench-<what>-<pid>-<n>": unique per process and call.
inline std::string UniqueShmPath(std::string_view what) {
  static std::atomic<int> counter{0};
  return "/dev/shm/kappa-bench-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

// A /dev/shm file of `size` bytes mapped MAP_SHARED read-write; unlinked and unmapped on
// destruction. Used as the memcpy baseline's destination, so that the baseline writes to the
// same kind of memory as the log.
class MappedFile {
 public:
  // Returns nullptr (with *error set) on failure.
  static std::unique_ptr<MappedFile> Create(const std::string& path, std::size_t size,
                                            std::string* error) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      *error = path + ": cannot create: " + std::strerror(errno);
      return nullptr;
    }
    if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0) {
      *error = path + ": cannot allocate: " + std::strerror(err);
      ::close(fd);
      ::unlink(path.c_str());
      return nullptr;
    }
    void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
      *error = path + ": mmap: " + std::strerror(errno);
      ::unlink(path.c_str());
      return nullptr;
    }
    return std::unique_ptr<MappedFile>(new MappedFile(path, static_cast<std::byte*>(map), size));
  }
  ~MappedFile() {
    ::munmap(data_, size_);
    ::unlink(path_.c_str());
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  MappedFile(std::string path, std::byte* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  std::byte* data_;
  std::size_t size_;
};

// CLOCK_MONOTONIC in nanoseconds (vDSO: the same clock in every process on the machine).
inline std::int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// Nearest-rank percentile (p in [0, 100]) of `sorted`. REQUIRES: sorted ascending, non-empty.
inline std::int64_t Percentile(const std::vector<std::int64_t>& sorted, double p) {
  const auto n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

}  // namespace kappa::bench
