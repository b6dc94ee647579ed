// Registry, aliases, flip, revert and retire, and readers following them.
#include "serving/namespace.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "serving/detail/mapped_words.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"
#include "tests/serving/test_util.h"

namespace kappa::serving {
namespace {

using testing::AsI64;
using testing::I64Value;
using testing::MakeSchema;
using testing::TempNamespace;

KeyedTableOptions Options() {
  KeyedTableOptions o;
  o.schema = MakeSchema({Field::I64("v")});
  return o;
}

// Version `version` of `name`, holding key k -> k * 10 + version for k < keys.
std::unique_ptr<KeyedTableWriter> MakeVersion(Namespace& ns, const std::string& name,
                                              std::uint32_t version, std::uint64_t keys = 100) {
  auto w = KeyedTableWriter::Create(ns, name, version, Options());
  EXPECT_TRUE(w.ok()) << w.status().message();
  for (std::uint64_t k = 0; k < keys; ++k)
    EXPECT_EQ((*w)->Upsert(k, I64Value(static_cast<std::int64_t>(k * 10 + version)), k),
              WriteResult::kOk);
  return std::move(w).value();
}

std::int64_t ReadKey(ViewReader& r, std::uint64_t k, ReadStatus* status = nullptr) {
  std::vector<std::byte> v(8);
  std::uint64_t offset;
  const ReadStatus s = r.Get(k, v, &offset);
  if (status) *status = s;
  return s == ReadStatus::kOk ? AsI64(v) : -1;
}

TEST(NamespaceTest, ShouldCreateItsDirectoryAndRegistryOwnerOnly) {
  TempNamespace t;
  auto ns = t.Open();
  ASSERT_NE(ns, nullptr);
  struct stat st;
  ASSERT_EQ(::stat(t.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((t.path() + "/registry").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto w = MakeVersion(*ns, "v", 1);
  ASSERT_EQ(::stat((t.path() + "/v@1.0.view").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second handle sees the same registry.
  auto again = t.Open();
  ASSERT_EQ(again->List().size(), 1u);
  EXPECT_EQ(again->List()[0].current, 1u);
  // Opening without create fails on a missing namespace.
  auto missing = Namespace::Open(t.path() + "-missing", /*create=*/false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(NamespaceTest, ShouldFlipRevertAndRetireByTheRules) {
  TempNamespace t;
  auto ns = t.Open();
  auto v1 = MakeVersion(*ns, "q", 1);
  auto v2 = MakeVersion(*ns, "q", 2);
  auto v3 = MakeVersion(*ns, "q", 3);
  ViewListing l = std::move(ns->Describe("q")).value();
  EXPECT_EQ(l.current, 1u);  // the first version made is current until a flip
  EXPECT_EQ(l.previous, 0u);
  ASSERT_EQ(l.versions.size(), 3u);

  EXPECT_EQ(ns->Revert("q").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(ns->Flip("q", 2).ok());
  EXPECT_EQ(ns->Retire("q", 2).code(), StatusCode::kFailedPrecondition);  // current
  ASSERT_TRUE(ns->Revert("q").ok());
  l = std::move(ns->Describe("q")).value();
  EXPECT_EQ(l.current, 1u);
  EXPECT_EQ(l.previous, 2u);
  ASSERT_TRUE(ns->Revert("q").ok());  // a revert of a revert
  EXPECT_EQ(std::move(ns->Describe("q")).value().current, 2u);
  ASSERT_TRUE(ns->Flip("q", 3).ok());
  l = std::move(ns->Describe("q")).value();
  EXPECT_EQ(l.current, 3u);
  EXPECT_EQ(l.previous, 2u);
  EXPECT_EQ(l.alias_epoch, 5u);  // created, flip, revert, revert, flip
  v1.reset();
  ASSERT_TRUE(ns->Retire("q", 1).ok());
  EXPECT_EQ(::access((t.path() + "/q@1.0.view").c_str(), F_OK), -1);
  EXPECT_EQ(ns->Retire("q", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(ns->Flip("q", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(ns->Flip("q", 9).code(), StatusCode::kNotFound);
  EXPECT_EQ(ns->Flip("nope", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(ns->Flip("bad/name", 1).code(), StatusCode::kInvalidArgument);
  l = std::move(ns->Describe("q")).value();
  ASSERT_EQ(l.versions.size(), 2u);
  EXPECT_TRUE(l.versions[1].current);
  EXPECT_TRUE(l.versions[0].previous);
  // Retiring the revert target ends the chance to revert.
  v2.reset();
  ASSERT_TRUE(ns->Retire("q", 2).ok());
  l = std::move(ns->Describe("q")).value();
  EXPECT_EQ(l.current, 3u);
  EXPECT_EQ(l.previous, 0u);
  EXPECT_EQ(ns->Revert("q").code(), StatusCode::kFailedPrecondition);
  // Drop removes every version and the name.
  v2.reset();
  v3.reset();
  ASSERT_TRUE(ns->Drop("q").ok());
  EXPECT_TRUE(ns->List().empty());
  EXPECT_EQ(ns->Drop("q").code(), StatusCode::kNotFound);
}

TEST(NamespaceTest, ShouldLetReadersFollowFlipsAndRevertsOnTheirNextRead) {
  TempNamespace t;
  auto ns = t.Open();
  auto v1 = MakeVersion(*ns, "q", 1);
  auto v2 = MakeVersion(*ns, "q", 2);
  auto follower = std::move(ViewReader::Open(t.path(), "q")).value();
  auto pinned = std::move(ViewReader::Open(t.path(), "q@1")).value();
  EXPECT_EQ(ReadKey(*follower, 5), 51);
  ASSERT_TRUE(ns->Flip("q", 2).ok());
  EXPECT_EQ(ReadKey(*follower, 5), 52);
  EXPECT_EQ(follower->version(), 2u);
  EXPECT_EQ(ReadKey(*pinned, 5), 51);
  ASSERT_TRUE(ns->Revert("q").ok());
  EXPECT_EQ(ReadKey(*follower, 5), 51);
  ASSERT_TRUE(ns->Flip("q", 2).ok());
  EXPECT_EQ(ReadKey(*follower, 6), 62);
  // Retired under a pinned reader: it learns on its next read.
  v1.reset();
  auto v3 = MakeVersion(*ns, "q", 3);
  ASSERT_TRUE(ns->Flip("q", 3).ok());
  ASSERT_TRUE(ns->Retire("q", 1).ok());
  ReadStatus s;
  EXPECT_EQ(ReadKey(*pinned, 5, &s), -1);
  EXPECT_EQ(s, ReadStatus::kGone);
  EXPECT_EQ(ReadKey(*follower, 5), 53);
  // A dropped name: followers are gone too.
  v2.reset();
  v3.reset();
  ASSERT_TRUE(ns->Drop("q").ok());
  EXPECT_EQ(ReadKey(*follower, 5, &s), -1);
  EXPECT_EQ(s, ReadStatus::kGone);
  // Opening what does not exist says so.
  auto none = ViewReader::Open(t.path(), "q");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ViewReader::Open(t.path(), "q@0").ok());
  EXPECT_FALSE(ViewReader::Open(t.path(), "q@x").ok());
  EXPECT_FALSE(ViewReader::Open(t.path(), "../etc").ok());
}

// Flips, reverts and growth while reader threads read: every value comes whole from one
// version, and a read that starts after a flip has returned comes from the new version.
TEST(NamespaceTest, ShouldFlipRevertAndGrowUnderConcurrentReaders) {
  TempNamespace t;
  auto ns = t.Open();
  auto v1 = MakeVersion(*ns, "q", 1, 1000);
  auto v2 = MakeVersion(*ns, "q", 2, 1000);
  // announce = (step << 8) | version; an odd step means a flip is under way.
  std::atomic<std::uint64_t> announce{(2u << 8) | 1u};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> reads{0}, checked{0}, torn{0}, stale_version{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&, i] {
      auto r = std::move(ViewReader::Open(t.path(), "q")).value();
      std::uint64_t k = static_cast<std::uint64_t>(i) + 1;
      while (!stop.load(std::memory_order_acquire)) {
        k = k * 6364136223846793005ULL + 1442695040888963407ULL;
        const std::uint64_t key = (k >> 33) % 1000;
        const std::uint64_t before = announce.load(std::memory_order_acquire);
        const std::int64_t v = ReadKey(*r, key);
        const std::uint64_t after = announce.load(std::memory_order_acquire);
        reads.fetch_add(1, std::memory_order_relaxed);
        if (v < 0 || v / 10 != static_cast<std::int64_t>(key) || (v % 10 != 1 && v % 10 != 2)) {
          torn.fetch_add(1);
          continue;
        }
        if (before != after || ((before >> 8) & 1) != 0) continue;  // a flip overlapped the read
        checked.fetch_add(1, std::memory_order_relaxed);
        if (static_cast<std::uint64_t>(v % 10) != (before & 0xFF)) stale_version.fetch_add(1);
      }
    });
  }
  std::uint32_t current = 1;
  for (std::uint64_t round = 0; round < 200; ++round) {
    const std::uint64_t step = 2 * round + 3;  // odd: under way
    const std::uint32_t to = current == 1 ? 2 : 1;
    announce.store((step << 8) | current, std::memory_order_release);
    ASSERT_TRUE(round % 4 == 1 ? ns->Revert("q").ok() : ns->Flip("q", to).ok());
    current = to;
    // Grow the current version under the readers now and then (keys past those read).
    if (round % 50 == 10) {
      KeyedTableWriter* w = current == 1 ? v1.get() : v2.get();
      for (std::uint64_t k = 1000; k < 3000; ++k)
        EXPECT_EQ(w->Upsert(k, I64Value(static_cast<std::int64_t>(k * 10 + current)), k),
                  WriteResult::kOk);
    }
    announce.store(((step + 1) << 8) | current, std::memory_order_release);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  stop.store(true);
  for (auto& th : readers) th.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(stale_version.load(), 0u);
  EXPECT_GT(checked.load(), 1000u) << reads.load() << " reads";
  EXPECT_GT(v1->generation() + v2->generation(), 0u);
}

// A file named like a view, `age` old.
void PlantViewFile(const TempNamespace& ns, const std::string& file, std::chrono::seconds age) {
  const std::string path = ns.path() + "/" + file;
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(std::string(4096, 'x').c_str(), f);
  std::fclose(f);
  timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= age.count();
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

bool Exists(const TempNamespace& ns, const std::string& file) {
  return ::access((ns.path() + "/" + file).c_str(), F_OK) == 0;
}

// A writer killed between creating a view's file and registering it (a reprocess killed while
// it creates its shards) leaves a file no listing shows: the next sweep removes it, and only it.
TEST(NamespaceTest, ShouldRemoveViewFilesThatNoEntryNamesAndNoWriterHolds) {
  TempNamespace t;
  auto ns = t.Open();
  ASSERT_NE(ns, nullptr);
  auto counts = MakeVersion(*ns, "counts", 1);
  PlantViewFile(t, "counts@2#1.0.view", std::chrono::seconds(3600));  // a shard never registered
  PlantViewFile(t, "q5@1#0.0.view", std::chrono::seconds(3600));      // a view never registered
  PlantViewFile(t, "counts@1.7.view", std::chrono::seconds(3600));  // a generation never published
  PlantViewFile(t, "young@1.0.view", std::chrono::seconds(0));      // maybe being created now
  PlantViewFile(t, "held@1.0.view", std::chrono::seconds(3600));    // a live writer's
  const int held = ::open((t.path() + "/held@1.0.view").c_str(), O_RDONLY);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);
  PlantViewFile(t, "notes.txt", std::chrono::seconds(3600));  // not a view file

  auto sweep = ns->RemoveOrphans();
  ASSERT_TRUE(sweep.ok()) << sweep.status().message();
  EXPECT_EQ(sweep->files, 3u);
  EXPECT_EQ(sweep->bytes, 3u * 4096);
  EXPECT_FALSE(Exists(t, "counts@2#1.0.view"));
  EXPECT_FALSE(Exists(t, "q5@1#0.0.view"));
  EXPECT_FALSE(Exists(t, "counts@1.7.view"));
  EXPECT_TRUE(Exists(t, "counts@1.0.view"));  // registered: kept, and still readable
  EXPECT_TRUE(Exists(t, "young@1.0.view"));
  EXPECT_TRUE(Exists(t, "held@1.0.view"));
  EXPECT_TRUE(Exists(t, "notes.txt"));
  auto reader = std::move(ViewReader::Open(t.path(), "counts")).value();
  EXPECT_EQ(ReadKey(*reader, 3), 31);
  ::close(held);  // the writer died: its file goes at the next sweep
  sweep = ns->RemoveOrphans(std::chrono::seconds(0));
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->files, 2u);
  EXPECT_FALSE(Exists(t, "young@1.0.view"));
  EXPECT_FALSE(Exists(t, "held@1.0.view"));
  ::unlink((t.path() + "/notes.txt").c_str());
}

TEST(NamespaceTest, ShouldRepairARegistryEntryLeftMidUpdateByADeadProcess) {
  TempNamespace t;
  auto ns = t.Open();
  auto v1 = MakeVersion(*ns, "q", 1);
  const pid_t child = ::fork();
  if (child == 0) {
    // Tear v1's entry as a dying mutator would: an odd seq, then death.
    auto n = Namespace::Open(t.path());
    if (!n.ok()) _exit(1);
    auto* layout = (*n)->registry().layout();
    detail::StoreRelaxed(layout->views[0].seq, detail::LoadRelaxed(layout->views[0].seq) + 1);
    ::kill(::getpid(), SIGKILL);
  }
  int status;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  // Readers give up on the torn entry rather than spin.
  auto r = ViewReader::Open(t.path(), "q@1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBusy);
  // The next mutation repairs it (the torn entry is dropped) and carries on.
  auto v2 = MakeVersion(*ns, "q", 2);
  ASSERT_TRUE(ns->Flip("q", 2).ok());
  const ViewListing l = std::move(ns->Describe("q")).value();
  ASSERT_EQ(l.versions.size(), 1u);
  EXPECT_EQ(l.versions[0].version, 2u);
  auto follower = std::move(ViewReader::Open(t.path(), "q")).value();
  EXPECT_EQ(ReadKey(*follower, 3), 32);
}

}  // namespace
}  // namespace kappa::serving
