// Torture: one writer updates values whose words all derive from one counter, growing its table,
// publishing top-K lists and appending list rows, while three readers check every read. Zero
// torn reads are accepted. Processes by default (KAPPA_TORTURE_SECONDS, default 20 s); the same
// with threads for ThreadSanitizer (KAPPA_TORTURE_THREAD_SECONDS, default 5 s).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "serving/view_reader.h"
#include "serving/view_writer.h"
#include "tests/serving/test_util.h"

namespace kappa::serving {
namespace {

using testing::MakeSchema;
using testing::TempNamespace;

constexpr std::uint64_t kKeys = 1024;          // present before the readers start
constexpr std::uint64_t kGrowthKeys = 200000;  // inserted during the run, growing the table
constexpr int kWords = 8;
constexpr std::uint32_t kTopK = 16;

// Word i of a value written at counter c for key k.
std::uint64_t WordOf(std::uint64_t c, std::uint64_t k, int i) {
  return (c * 0x9E3779B97F4A7C15ULL) ^ (k << 20) ^
         (static_cast<std::uint64_t>(i) * 0xD1B54A32D192ED03ULL);
}
std::vector<std::byte> MakeValue(std::uint64_t c, std::uint64_t k) {
  std::vector<std::byte> v(8 * kWords);
  for (int i = 0; i < kWords; ++i) {
    const std::uint64_t w = WordOf(c, k, i);
    std::memcpy(v.data() + 8 * i, &w, 8);
  }
  return v;
}
// The counter the first word encodes, if every word agrees with it (and with the key).
bool Consistent(std::span<const std::byte> v, std::uint64_t k, std::uint64_t* counter = nullptr) {
  std::uint64_t w0;
  std::memcpy(&w0, v.data(), 8);
  // w0 = c * M ^ (k << 20): invert the multiply with M's inverse mod 2^64.
  const std::uint64_t c = (w0 ^ (k << 20)) * 0xF1DE83E19937733DULL;
  for (int i = 0; i < kWords; ++i) {
    std::uint64_t w;
    std::memcpy(&w, v.data() + 8 * i, 8);
    if (w != WordOf(c, k, i)) return false;
  }
  if (counter) *counter = c;
  return true;
}

Schema ValueSchema() {
  std::vector<Field> f;
  for (int i = 0; i < kWords; ++i) f.push_back(Field::U64("w" + std::to_string(i)));
  return MakeSchema(std::move(f));
}

struct alignas(128) ReaderResult {
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> missing{0};  // a key present from the start not found
  std::atomic<std::uint64_t> stale{0};
  std::atomic<std::uint64_t> topk_reads{0};
  std::atomic<std::uint64_t> topk_torn{0};
  std::atomic<std::uint64_t> list_rows{0};
  std::atomic<std::uint64_t> list_torn{0};
  std::atomic<std::uint64_t> other{0};
  std::atomic<std::uint64_t> generations{0};  // the highest generation a reader followed to
};

struct Control {
  std::atomic<int> ready{0};
  std::atomic<int> stop{0};
  std::atomic<std::uint64_t> updates{0};
  std::atomic<std::uint64_t> writer_failed{0};
  ReaderResult readers[3];
};

void RunWriter(const std::string& ns_path, Control* ctl) {
  auto ns = Namespace::Open(ns_path);
  if (!ns.ok()) return void(ctl->writer_failed = 1);
  KeyedTableOptions ko;
  ko.schema = ValueSchema();
  ko.expected_keys = kKeys;
  auto table = KeyedTableWriter::Create(**ns, "t", 1, ko);
  TopKOptions to;
  to.schema = ValueSchema();
  to.k = kTopK;
  to.order_field = "w1";
  auto top = TopKWriter::Create(**ns, "top", 1, to);
  ResultListOptions lo;
  lo.schema = ValueSchema();
  lo.capacity = 4096;
  auto list = ResultListWriter::Create(**ns, "rows", 1, lo);
  if (!table.ok() || !top.ok() || !list.ok()) return void(ctl->writer_failed = 2);
  std::uint64_t c = 1;
  for (std::uint64_t k = 0; k < kKeys; ++k, ++c)
    EXPECT_EQ((*table)->Upsert(k, MakeValue(c, k), c), WriteResult::kOk);
  for (std::uint64_t k = 0; k < kTopK; ++k)
    EXPECT_EQ((*top)->Offer(k, MakeValue(c, k), c), WriteResult::kOk);
  (*top)->Publish();
  ctl->ready.store(1, std::memory_order_release);
  std::uint64_t rng = 88172645463325252ULL;
  std::uint64_t next_growth = kKeys;
  while (ctl->stop.load(std::memory_order_acquire) == 0) {
    for (int i = 0; i < 256; ++i, ++c) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      const std::uint64_t k = rng % kKeys;
      if ((*table)->Upsert(k, MakeValue(c, k), c) != WriteResult::kOk)
        return void(ctl->writer_failed = 3);
      if (i % 8 == 0 && next_growth < kKeys + kGrowthKeys) {
        EXPECT_EQ((*table)->Upsert(next_growth, MakeValue(c, next_growth), c), WriteResult::kOk);
        ++next_growth;
      }
      if (i % 64 == 0) {
        // Every row of a published list carries the same counter.
        for (std::uint64_t r = 0; r < kTopK; ++r)
          EXPECT_EQ((*top)->Offer(r, MakeValue(c, r), c), WriteResult::kOk);
        (*top)->Publish();
      }
      if (i % 16 == 0) {
        EXPECT_EQ((*list)->Append(MakeValue(c, (*list)->count()), c), WriteResult::kOk);
      }
    }
    (*table)->SetProgress(c);
    ctl->updates.store(c, std::memory_order_relaxed);
  }
}

void RunReader(const std::string& ns_path, Control* ctl, ReaderResult* out) {
  auto table = ViewReader::Open(ns_path, "t");
  auto top = ViewReader::Open(ns_path, "top");
  auto list = ViewReader::Open(ns_path, "rows");
  if (!table.ok() || !top.ok() || !list.ok()) return void(out->other.fetch_add(1));
  std::vector<std::byte> v(8 * kWords);
  std::uint64_t offset = 0, rng = static_cast<std::uint64_t>(::getpid()) * 2654435761ULL + 1;
  std::uint64_t list_next = 0;
  for (std::uint64_t n = 0; ctl->stop.load(std::memory_order_acquire) == 0; ++n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    // Mostly keys present from the start; some from the growing range.
    const std::uint64_t k = (rng & 7) == 0 ? kKeys + (rng >> 8) % kGrowthKeys : (rng >> 8) % kKeys;
    const ReadStatus s = (*table)->Get(k, v, &offset);
    out->reads.fetch_add(1, std::memory_order_relaxed);
    if (s == ReadStatus::kOk) {
      std::uint64_t c = 0;
      if (!Consistent(v, k, &c) || c != offset) out->torn.fetch_add(1);
    } else if (s == ReadStatus::kNotFound) {
      if (k < kKeys) out->missing.fetch_add(1);
    } else if (s == ReadStatus::kStale) {
      out->stale.fetch_add(1);
    } else {
      out->other.fetch_add(1);
    }
    if (n % 64 == 0) {
      std::uint64_t counter = 0, rows = 0;
      bool torn = false;
      const ReadStatus ts = (*top)->TopK([&](const RowView& row) {
        std::uint64_t c = 0;
        if (!Consistent(row.value, row.key_u64, &c) || (rows > 0 && c != counter)) torn = true;
        counter = c;
        ++rows;
        return true;
      });
      out->topk_reads.fetch_add(1, std::memory_order_relaxed);
      if (ts != ReadStatus::kOk || rows != kTopK || torn) out->topk_torn.fetch_add(1);
    }
    if (n % 16 == 0) {
      EXPECT_EQ((*list)->ListRows(
                    list_next, 256,
                    [&](const RowView& row) {
                      if (!Consistent(row.value, row.index)) out->list_torn.fetch_add(1);
                      out->list_rows.fetch_add(1, std::memory_order_relaxed);
                      return true;
                    },
                    &list_next),
                ReadStatus::kOk);
    }
    if (n % 4096 == 0) {
      const std::uint64_t g = (*table)->generation();
      if (g > out->generations.load(std::memory_order_relaxed))
        out->generations.store(g, std::memory_order_relaxed);
    }
  }
}

int Seconds(const char* env, int fallback) {
  const char* s = std::getenv(env);
  return s && std::atoi(s) > 0 ? std::atoi(s) : fallback;
}

void Check(const Control& ctl) {
  EXPECT_EQ(ctl.writer_failed.load(), 0u);
  EXPECT_GT(ctl.updates.load(), 10000u);
  std::uint64_t max_generation = 0;
  for (int i = 0; i < 3; ++i) {
    const ReaderResult& r = ctl.readers[i];
    EXPECT_GT(r.reads.load(), 1000u) << "reader " << i;
    EXPECT_EQ(r.torn.load(), 0u) << "reader " << i << " of " << r.reads.load() << " reads";
    EXPECT_EQ(r.missing.load(), 0u) << "reader " << i;
    EXPECT_EQ(r.stale.load(), 0u) << "reader " << i;
    EXPECT_EQ(r.other.load(), 0u) << "reader " << i;
    EXPECT_GT(r.topk_reads.load(), 10u) << "reader " << i;
    EXPECT_EQ(r.topk_torn.load(), 0u) << "reader " << i;
    EXPECT_GT(r.list_rows.load(), 0u) << "reader " << i;
    EXPECT_EQ(r.list_torn.load(), 0u) << "reader " << i;
    max_generation = std::max(max_generation, r.generations.load());
    std::printf(
        "reader %d: %lu reads, %lu top-K lists, %lu list rows, followed to generation %lu\n", i,
        static_cast<unsigned long>(r.reads.load()), static_cast<unsigned long>(r.topk_reads.load()),
        static_cast<unsigned long>(r.list_rows.load()),
        static_cast<unsigned long>(r.generations.load()));
  }
  EXPECT_GT(max_generation, 0u) << "the table never grew under the readers";
}

#if !defined(__SANITIZE_THREAD__)
TEST(TortureTest, ShouldNeverTearAReadAcrossProcesses) {
  TempNamespace t;
  auto* ctl = static_cast<Control*>(
      ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(ctl, MAP_FAILED);
  new (ctl) Control();
  std::vector<pid_t> pids;
  auto spawn = [&](auto fn) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      fn();
      _exit(0);
    }
    pids.push_back(pid);
  };
  spawn([&] { RunWriter(t.path(), ctl); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ctl->ready.load() == 0 && ctl->writer_failed.load() == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(ctl->ready.load(), 1) << "writer failed: " << ctl->writer_failed.load();
  for (int i = 0; i < 3; ++i) spawn([&, i] { RunReader(t.path(), ctl, &ctl->readers[i]); });
  std::this_thread::sleep_for(std::chrono::seconds(Seconds("KAPPA_TORTURE_SECONDS", 20)));
  ctl->stop.store(1);
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "process " << pid << " status " << status;
  }
  Check(*ctl);
  ::munmap(ctl, sizeof(Control));
}
#endif

TEST(TortureTest, ShouldNeverTearAReadAcrossThreads) {
  TempNamespace t;
  Control ctl;
  std::thread writer([&] { RunWriter(t.path(), &ctl); });
  while (ctl.ready.load() == 0 && ctl.writer_failed.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(ctl.ready.load(), 1) << "writer failed: " << ctl.writer_failed.load();
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&, i] { RunReader(t.path(), &ctl, &ctl.readers[i]); });
  std::this_thread::sleep_for(std::chrono::seconds(Seconds("KAPPA_TORTURE_THREAD_SECONDS", 5)));
  ctl.stop.store(1);
  writer.join();
  for (auto& r : readers) r.join();
  Check(ctl);
}

}  // namespace
}  // namespace kappa::serving
