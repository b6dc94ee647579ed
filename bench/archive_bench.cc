// The archive: replay from segment files against replay from the ring and against a plain
// sequential read of the same files, replay from compressed segments (LZ4, Zstandard) against a
// bare loop that reads and decompresses the same blocks, the archiver's copy rate against a bare
// pwrite of the same bytes, its CPU at 200 K events/s, and seeks and opening over an archive of
// 1,000+ segments against the system calls that touch one segment file. Every figure is the
// median of several rounds that alternate with their baseline.
//
// Usage: archive_bench [--dir=DIR] [--records=N] [--rounds=R]
//   DIR: where the archive goes (default /tmp: a real filesystem, as an archive should be).
#include <dirent.h>
#include <fcntl.h>
#include <lz4.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "memlog/archive.h"
#include "memlog/archiver.h"
#include "memlog/log.h"
#include "memlog/log_reader.h"
#include "memlog/producer.h"

namespace kappa::bench {
namespace {

using memlog::AppendResult;
using memlog::Archiver;
using memlog::Log;
using memlog::PollStatus;
using memlog::RecordBatch;
using memlog::StartAt;

struct Options {
  std::string dir = "/tmp";
  std::uint64_t records = 3'000'000;
  int rounds = 5;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double NowS() { return static_cast<double>(MonotonicNs()) * 1e-9; }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "archive_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Must(memlog::Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().message());
  return std::move(r).value();
}

void RemoveTree(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        ::unlink((dir + "/" + e->d_name).c_str());
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

std::vector<std::string> SegmentPaths(const std::string& dir, const char* suffix = ".seg") {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::uint64_t base;
      if (memlog::ParseSegmentFileName(e->d_name, suffix, &base))
        out.push_back(dir + "/" + e->d_name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// NEXMark-bid-sized records (100-byte payloads), numbered. `varied`: a bid's worth of numbers
// that differ from record to record (so that they compress as bids do, not as zeros do).
void Fill(Log* log, std::uint64_t n, std::vector<std::uint64_t>* offsets = nullptr,
          bool varied = false) {
  auto producer = Must(log->NewProducer(), "producer");
  std::vector<std::byte> payload(100);
  std::mt19937_64 rng(42);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::memcpy(payload.data(), &i, 8);
    if (varied) {
      const std::uint64_t fields[4] = {1000 + rng() % 10'000, 1000 + rng() % 100'000,
                                       rng() % 100'000'000,
                                       static_cast<std::uint64_t>(i) * 1000 + rng() % 1000};
      std::memcpy(payload.data() + 8, fields, sizeof fields);
      const std::uint64_t channel = rng() % 16;
      std::memcpy(payload.data() + 40, &channel, 8);
    }
    std::uint64_t at = 0;
    const AppendResult r = producer->AppendBlocking(payload, 1, static_cast<std::int64_t>(i) * 1000,
                                                    std::chrono::seconds(30), &at);
    if (r != AppendResult::kOk) Die(std::string("append: ") + memlog::AppendResultName(r));
    if (offsets) offsets->push_back(at);
  }
}

// Reads every record from the earliest offset (up to `end`, default the latest), touching each
// payload; returns records read.
std::uint64_t Replay(Log* log, std::uint64_t* sink, std::uint64_t* archived = nullptr,
                     std::uint64_t end = 0) {
  auto reader = Must(log->NewReader(StartAt::Earliest()), "reader");
  RecordBatch batch;
  std::uint64_t n = 0, sum = 0;
  if (end == 0) end = log->latest_offset();
  while (reader->position() < end) {
    const PollStatus st = reader->Poll(&batch, 8192, 4 << 20);
    if (st == PollStatus::kEmpty) continue;
    if (st != PollStatus::kOk)
      Die(std::string("replay: ") + memlog::PollStatusName(st) + " " + reader->error());
    if (archived && batch.archived()) *archived += batch.size();
    for (const memlog::Record& r : batch) {
      std::uint64_t v;
      std::memcpy(&v, r.payload.data(), 8);
      sum += v + r.payload.size();
      ++n;
    }
  }
  *sink += sum;
  return n;
}

// Drops the files' pages from the page cache (they are clean: sealed segments were fsynced).
// Returns the fraction of pages still resident afterwards (mincore), to show it worked.
double DropFromCache(const std::vector<std::string>& files) {
  std::uint64_t pages = 0, resident = 0;
  const long page = ::sysconf(_SC_PAGESIZE);
  for (const std::string& f : files) {
    const int fd = ::open(f.c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    struct stat st;
    ::fstat(fd, &st);
    if (st.st_size > 0) {
      void* map =
          ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
      if (map != MAP_FAILED) {
        std::vector<unsigned char> vec(static_cast<std::size_t>((st.st_size + page - 1) / page));
        if (::mincore(map, static_cast<std::size_t>(st.st_size), vec.data()) == 0)
          for (unsigned char c : vec) resident += c & 1;
        pages += vec.size();
        ::munmap(map, static_cast<std::size_t>(st.st_size));
      }
    }
    ::close(fd);
  }
  return pages ? static_cast<double>(resident) / static_cast<double>(pages) : 0;
}

// Sequential read() of the files in 1 MiB chunks: the cold baseline.
std::uint64_t ReadFiles(const std::vector<std::string>& files, std::uint64_t* sink) {
  std::vector<char> buf(1 << 20);
  std::uint64_t bytes = 0;
  for (const std::string& f : files) {
    const int fd = ::open(f.c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
      bytes += static_cast<std::uint64_t>(n);
      *sink += static_cast<unsigned char>(buf[0]);
    }
    ::close(fd);
  }
  return bytes;
}

// The baseline of a compressed replay: every block of the compressed segment files read (pread)
// and decompressed, nothing else. Returns the frame bytes decompressed.
std::uint64_t DecompressFiles(const std::vector<std::string>& files, std::uint64_t* sink) {
  std::vector<char> stored, raw;
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::uint64_t bytes = 0;
  for (const std::string& f : files) {
    const int fd = ::open(f.c_str(), O_RDONLY);
    if (fd < 0) Die("open " + f);
    memlog::SegmentHeader h;
    if (::pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) Die("read " + f);
    std::vector<memlog::BlockEntry> blocks(h.blocks);
    const std::size_t index = blocks.size() * sizeof(memlog::BlockEntry);
    if (::pread(fd, blocks.data(), index, static_cast<off_t>(h.block_index_at)) !=
        static_cast<ssize_t>(index))
      Die("read " + f);
    raw.resize(h.max_block_bytes);
    for (const memlog::BlockEntry& b : blocks) {
      stored.resize(b.stored_bytes);
      if (::pread(fd, stored.data(), b.stored_bytes, static_cast<off_t>(b.file_at)) !=
          static_cast<ssize_t>(b.stored_bytes))
        Die("read " + f);
      std::size_t n;
      if (h.codec == memlog::Codec::kLz4) {
        n = static_cast<std::size_t>(LZ4_decompress_safe(stored.data(), raw.data(),
                                                         static_cast<int>(b.stored_bytes),
                                                         static_cast<int>(raw.size())));
      } else {
        n = ZSTD_decompressDCtx(dctx, raw.data(), raw.size(), stored.data(), b.stored_bytes);
      }
      if (n != b.raw_bytes) Die("decompress " + f);
      bytes += n;
      *sink += static_cast<unsigned char>(raw[n / 2]);
    }
    ::close(fd);
  }
  ZSTD_freeDCtx(dctx);
  return bytes;
}

void Row(const char* what, double value, const char* unit, double baseline,
         const char* baseline_what, const char* target) {
  std::printf("%-44s %10.3f %-8s | %-34s %10.3f | ratio %6.3f | target %s\n", what, value, unit,
              baseline_what, baseline, baseline > 0 ? value / baseline : 0, target);
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  using namespace kappa::bench;  // NOLINT: a benchmark's main
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--dir="))
      o.dir = a.substr(6);
    else if (a.starts_with("--records="))
      o.records = std::stoull(a.substr(10));
    else if (a.starts_with("--rounds="))
      o.rounds = std::stoi(a.substr(9));
    else
      Die("unknown option " + a + " (--dir=DIR --records=N --rounds=R)");
  }
  const std::string id = std::to_string(::getpid());
  std::uint64_t sink = 0;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("archive_bench: %" PRIu64
              " records of 100 bytes (%.0f MiB of frames), archive in %s, %d rounds\n\n",
              o.records, static_cast<double>(o.records * 128) / (1 << 20), o.dir.c_str(), o.rounds);

  // --- Replay: the same records from the ring of one log, and from the archive of another.
  {
    const std::string ring_path = UniqueShmPath("archive-ring");
    const std::string arch_path = UniqueShmPath("archive-arch");
    const std::string dir = o.dir + "/kappa-bench-archive-" + id;
    kappa::memlog::CreateOptions ro;
    ro.capacity = std::bit_ceil(o.records * 128 + (1 << 20));
    auto ring_log = Must(Log::Create(ring_path, ro), "create");
    Fill(ring_log.get(), o.records);
    kappa::memlog::CreateOptions ao;
    ao.capacity = 16 << 20;
    ao.archive_directory = dir;
    ao.archive.segment_bytes = 64 << 20;
    auto arch_log = Must(Log::Create(arch_path, ao), "create");
    auto archiver = Must(Archiver::Open(arch_log.get()), "archiver");
    archiver->Start();
    Fill(arch_log.get(), o.records);
    if (auto s = archiver->Stop(); !s.ok()) Die(s.message());
    if (auto s = archiver->Seal(); !s.ok()) Die(s.message());
    std::uint64_t archived = 0;
    Replay(arch_log.get(), &sink, &archived);
    std::printf(
        "archive: %zu sealed segments; %.1f%% of the replayed records came from segment files\n\n",
        archiver->manifest().segments.size(),
        100.0 * static_cast<double>(archived) / static_cast<double>(o.records));
    std::vector<double> ring_rate, arch_rate, cold_rate, read_rate, residency;
    const double mib = static_cast<double>(arch_log->latest_offset()) / (1 << 20);
    const auto files = SegmentPaths(dir);
    for (int r = 0; r < o.rounds; ++r) {
      double t = NowS();
      Replay(ring_log.get(), &sink);
      ring_rate.push_back(static_cast<double>(o.records) / (NowS() - t) / 1e6);
      t = NowS();
      Replay(arch_log.get(), &sink);
      arch_rate.push_back(static_cast<double>(o.records) / (NowS() - t) / 1e6);
      // Cold: the page cache dropped before each.
      residency.push_back(DropFromCache(files));
      t = NowS();
      const std::uint64_t bytes = ReadFiles(files, &sink);
      read_rate.push_back(static_cast<double>(bytes) / (NowS() - t) / (1 << 20));
      DropFromCache(files);
      t = NowS();
      Replay(arch_log.get(), &sink);
      cold_rate.push_back(mib / (NowS() - t));
    }
    Row("replay from the archive, warm (M records/s)", Median(arch_rate), "M/s", Median(ring_rate),
        "replay from the ring", ">= 0.8");
    Row("replay from the archive, cold (MiB/s)", Median(cold_rate), "MiB/s", Median(read_rate),
        "read() of the same files, cold", ">= 0.8");
    std::printf("  (pages still cached after the drop: %.1f%%)\n", 100 * Median(residency));
    archiver.reset();
    arch_log.reset();
    ring_log.reset();
    ::unlink(ring_path.c_str());
    ::unlink(arch_path.c_str());
    RemoveTree(dir);
  }

  // --- Replay from compressed segments, against reading and decompressing the same blocks.
  for (const kappa::memlog::Codec codec :
       {kappa::memlog::Codec::kLz4, kappa::memlog::Codec::kZstd}) {
    const std::string path = UniqueShmPath("archive-codec");
    const std::string dir = o.dir + "/kappa-bench-archive-codec-" + id;
    kappa::memlog::CreateOptions co;
    co.capacity = 16 << 20;
    co.archive_directory = dir;
    co.archive.segment_bytes = 64 << 20;
    co.archive.codec = codec;
    auto log = Must(Log::Create(path, co), "create");
    auto archiver = Must(Archiver::Open(log.get()), "archiver");
    archiver->Start();
    double t = NowS();
    Fill(log.get(), o.records, nullptr, /*varied=*/true);
    if (auto s = archiver->Stop(); !s.ok()) Die(s.message());
    if (auto s = archiver->Seal(); !s.ok()) Die(s.message());
    if (auto s = archiver->CompressAll(); !s.ok()) Die(s.message());
    const double fill_s = NowS() - t;
    const kappa::memlog::Manifest& m = archiver->manifest();
    const std::uint64_t sealed_end = m.active_base;
    const auto files = SegmentPaths(dir, ".segz");
    std::vector<double> replay_rate, bare_rate;
    std::uint64_t records = 0;
    for (int r = 0; r < o.rounds; ++r) {
      t = NowS();
      records = Replay(log.get(), &sink, nullptr, sealed_end);
      replay_rate.push_back(static_cast<double>(sealed_end - m.earliest) / (NowS() - t) /
                            (1 << 20));
      t = NowS();
      const std::uint64_t bytes = DecompressFiles(files, &sink);
      bare_rate.push_back(static_cast<double>(bytes) / (NowS() - t) / (1 << 20));
    }
    std::printf("%s: %zu sealed segments, %.1f MiB of frames in %.1f MiB of files (%.2fx), %" PRIu64
                " records; appending and compressing took %.1f s\n",
                kappa::memlog::CodecName(codec), m.segments.size(),
                static_cast<double>(m.sealed_bytes()) / (1 << 20),
                static_cast<double>(m.stored_bytes()) / (1 << 20),
                static_cast<double>(m.sealed_bytes()) / static_cast<double>(m.stored_bytes()),
                records, fill_s);
    const std::string what =
        std::string("replay from ") + kappa::memlog::CodecName(codec) + " segments, warm (MiB/s)";
    Row(what.c_str(), Median(replay_rate), "MiB/s", Median(bare_rate),
        "pread + decompress the same blocks", ">= 0.7");
    std::printf(
        "  (%.1f M records/s)\n\n",
        static_cast<double>(records) /
            (static_cast<double>(sealed_end - m.earliest) / Median(replay_rate) / (1 << 20)) / 1e6);
    archiver.reset();
    log.reset();
    ::unlink(path.c_str());
    RemoveTree(dir);
  }

  // --- The archiver's copy rate: a full ring archived (it flushes every quarter ring, as it
  // must to free the ring), against pwrite of the same bytes to a file in the same directory
  // with an fdatasync every quarter ring. Wall time, and CPU time of the copying thread.
  {
    auto thread_cpu = [] {
      timespec ts;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    };
    std::vector<double> copy_rate, copy_cpu_rate, write_rate, write_cpu_rate;
    for (int r = 0; r < o.rounds; ++r) {
      const std::string path = UniqueShmPath("archive-copy");
      const std::string dir = o.dir + "/kappa-bench-archive-copy-" + id;
      kappa::memlog::CreateOptions co;
      co.capacity = 256 << 20;
      co.archive_directory = dir;
      co.archive.segment_bytes = 1 << 30;
      co.archive.flush_interval = std::chrono::hours(1);
      auto log = Must(Log::Create(path, co), "create");
      auto archiver = Must(Archiver::Open(log.get()), "archiver");
      const std::uint64_t n = (co.capacity - (1 << 20)) / 128;
      Fill(log.get(), n);
      const std::uint64_t bytes = log->latest_offset();
      double t = NowS();
      double cpu = thread_cpu();
      while (archiver->written_offset() < bytes) {
        if (auto s = archiver->Pass(); !s.ok()) Die(s.message());
      }
      if (auto s = archiver->Flush(); !s.ok()) Die(s.message());
      copy_rate.push_back(static_cast<double>(bytes) / (NowS() - t) / 1e9);
      copy_cpu_rate.push_back(static_cast<double>(bytes) / (thread_cpu() - cpu) / 1e9);
      // Baseline: the same bytes (from the ring's mapping) written with pwrite in 4 MiB calls.
      const std::string file = dir + "/baseline";
      const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const std::byte* src = log->ring().data;
      t = NowS();
      cpu = thread_cpu();
      for (std::uint64_t at = 0; at < bytes; at += 4 << 20) {
        if (::pwrite(fd, src + (at & log->ring().mask),
                     std::min<std::uint64_t>(4 << 20, bytes - at), static_cast<off_t>(at)) < 0)
          Die("pwrite");
        if ((at + (4 << 20)) % (co.capacity / 4) == 0) ::fdatasync(fd);
      }
      ::fdatasync(fd);
      write_rate.push_back(static_cast<double>(bytes) / (NowS() - t) / 1e9);
      write_cpu_rate.push_back(static_cast<double>(bytes) / (thread_cpu() - cpu) / 1e9);
      ::close(fd);
      archiver.reset();
      log.reset();
      ::unlink(path.c_str());
      RemoveTree(dir);
    }
    Row("archiver, wall (GB/s, flushed)", Median(copy_rate), "GB/s", Median(write_rate),
        "pwrite + fdatasync, same bytes", "-");
    Row("archiver, per CPU second (GB/s)", Median(copy_cpu_rate), "GB/s", Median(write_cpu_rate),
        "pwrite + fdatasync, same bytes", ">= 1 GB/s");
  }

  // --- The archiver's CPU while producers append 200 K events/s.
  {
    const std::string path = UniqueShmPath("archive-cpu");
    const std::string dir = o.dir + "/kappa-bench-archive-cpu-" + id;
    kappa::memlog::CreateOptions co;
    co.capacity = 64 << 20;
    co.archive_directory = dir;
    auto log = Must(Log::Create(path, co), "create");
    auto archiver = Must(Archiver::Open(log.get()), "archiver");
    std::atomic<bool> stop{false};
    double archiver_cpu_s = 0;
    std::thread t([&] {
      if (auto s = archiver->Run(stop); !s.ok()) Die(s.message());
      timespec ts;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      archiver_cpu_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    });
    constexpr double kSeconds = 5;
    constexpr std::uint64_t kRate = 200'000;
    auto producer = Must(log->NewProducer(), "producer");
    std::vector<std::byte> payload(100);
    const double t0 = NowS();
    std::uint64_t done = 0;
    while (NowS() - t0 < kSeconds) {
      const auto due = static_cast<std::uint64_t>((NowS() - t0) * kRate);
      for (; done < due; ++done)
        if (producer->AppendBlocking(payload, 1, 0, std::chrono::seconds(5)) != AppendResult::kOk)
          Die("append");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const double wall = NowS() - t0;
    stop = true;
    t.join();
    std::printf("%-44s %10.3f %-8s | %" PRIu64
                " events in %.1f s (%.0f/s, %.1f MB/s of frames)          | target < 5%%\n",
                "archiver CPU at 200 K events/s (% of a core)", 100 * archiver_cpu_s / wall, "%",
                done, wall, static_cast<double>(done) / wall,
                static_cast<double>(log->latest_offset()) / wall / 1e6);
    producer.reset();
    archiver.reset();
    log.reset();
    ::unlink(path.c_str());
    RemoveTree(dir);
  }

  // --- Seeks and open over an archive of 1,000+ sealed segments.
  {
    const std::string path = UniqueShmPath("archive-seek");
    const std::string dir = o.dir + "/kappa-bench-archive-seek-" + id;
    kappa::memlog::CreateOptions co;
    co.capacity = 4 << 20;
    co.archive_directory = dir;
    co.archive.segment_bytes = 64 << 10;
    auto log = Must(Log::Create(path, co), "create");
    auto archiver = Must(Archiver::Open(log.get()), "archiver");
    archiver->Start();
    std::vector<std::uint64_t> offsets;
    const std::uint64_t n = 1100ull * (64 << 10) / 128;
    Fill(log.get(), n, &offsets);
    if (auto s = archiver->Stop(); !s.ok()) Die(s.message());
    const std::size_t segments = archiver->manifest().segments.size();
    const std::uint64_t head = log->ring().LoadHead();
    std::mt19937_64 rng(1);
    std::vector<double> offset_us, time_us, floor_us;
    for (int r = 0; r < o.rounds; ++r) {
      constexpr int kSeeks = 300;
      double t = NowS();
      for (int i = 0; i < kSeeks; ++i) {
        std::uint64_t at;
        do at = offsets[rng() % offsets.size()];
        while (at >= head);
        auto reader = Must(log->NewReader(StartAt::Offset(at)), "seek");
        RecordBatch b;
        if (reader->Poll(&b, 1) != PollStatus::kOk) Die("poll after an offset seek");
      }
      offset_us.push_back((NowS() - t) / kSeeks * 1e6);
      t = NowS();
      for (int i = 0; i < kSeeks; ++i) {
        const std::uint64_t k = rng() % (n * 9 / 10);
        auto reader =
            Must(log->NewReader(StartAt::Time(static_cast<std::int64_t>(k) * 1000)), "time seek");
        RecordBatch b;
        if (reader->Poll(&b, 1) != PollStatus::kOk) Die("poll after a time seek");
        std::uint64_t v;
        std::memcpy(&v, (*b.begin()).payload.data(), 8);
        if (v != k)
          Die("time seek found record " + std::to_string(v) + ", not " + std::to_string(k));
      }
      time_us.push_back((NowS() - t) / kSeeks * 1e6);
      // Baseline: what touching one segment file costs the system (open, fstat, mmap, munmap,
      // close).
      const auto files = SegmentPaths(dir);
      t = NowS();
      for (int i = 0; i < kSeeks; ++i) {
        const std::string& f = files[rng() % files.size()];
        const int fd = ::open(f.c_str(), O_RDONLY);
        struct stat st;
        ::fstat(fd, &st);
        void* m =
            ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
        sink += static_cast<const unsigned char*>(m)[0];
        ::munmap(m, static_cast<std::size_t>(st.st_size));
        ::close(fd);
      }
      floor_us.push_back((NowS() - t) / kSeeks * 1e6);
    }
    std::printf("\nseeks over %zu sealed segments:\n", segments);
    Row("offset seek + first poll (us)", Median(offset_us), "us", Median(floor_us),
        "open+mmap+close of a segment", "<= 100 us");
    Row("time seek + first poll (us)", Median(time_us), "us", Median(floor_us),
        "open+mmap+close of a segment", "<= 200 us");
    // Open: the log, then an archiver, which recovers the archive (stat of every sealed segment,
    // a scan of the one that was being written: 32 KiB of frames are left in it each round).
    archiver.reset();
    log.reset();
    std::vector<double> open_ms, stat_ms;
    const auto files = SegmentPaths(dir);
    for (int r = 0; r < o.rounds; ++r) {
      double t = NowS();
      auto reopened = Must(Log::Open(path), "open");
      auto again = Must(Archiver::Open(reopened.get()), "archiver");
      open_ms.push_back((NowS() - t) * 1e3);
      Fill(reopened.get(), (32 << 10) / 128);
      if (auto st = again->Pass(); !st.ok()) Die(st.message());
      t = NowS();
      for (const std::string& f : files) {
        struct stat st;
        ::stat(f.c_str(), &st);
      }
      stat_ms.push_back((NowS() - t) * 1e3);
    }
    Row("open + archiver recovery, 1,000+ segments (ms)", Median(open_ms), "ms", Median(stat_ms),
        "stat() of every segment file", "<= 1000 ms");
    ::unlink(path.c_str());
    RemoveTree(dir);
  }
  std::printf("\n(checksum %" PRIu64 ")\n", sink);
  return 0;
}
