// Exactly-once: an engine process killed with SIGKILL at random points while its jobs run, 50
// times, while the log grows, then run to the end, leaves views equal to those of one
// uninterrupted run: a running aggregate, a windowed one, and a job of two keyed stages (a
// window's results aggregated again).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <tuple>

#include "memlog/log.h"
#include "memlog/producer.h"
#include "serving/view_reader.h"
#include "tests/engine/clicks.h"
#include "tests/serving/test_util.h"

#ifndef KAPPA_CRASH_WORKER
#error "KAPPA_CRASH_WORKER must name the crash worker executable"
#endif

namespace kappa::engine {
namespace {

using serving::testing::TempNamespace;
using testing::Click;

// The worker, its standard output on a pipe: `out` reads it.
pid_t Spawn(const std::vector<std::string>& args, int* out) {
  std::vector<char*> argv{const_cast<char*>(KAPPA_CRASH_WORKER)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(KAPPA_CRASH_WORKER, argv.data());
    _exit(127);
  }
  ::close(fds[1]);
  *out = fds[0];
  return pid;
}

// What the worker printed up to its "started" line (or its exit), "" after `timeout`.
std::string ReadUntilStarted(int fd, std::chrono::seconds timeout) {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (text.find("started\n") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Every row of `view`: (key, window start, value bytes, offset), sorted.
std::vector<std::tuple<std::uint64_t, std::int64_t, std::string, std::uint64_t>> Rows(
    const std::string& ns, const std::string& view) {
  std::vector<std::tuple<std::uint64_t, std::int64_t, std::string, std::uint64_t>> rows;
  auto reader = serving::ViewReader::Open(ns, view);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return rows;
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& r) {
    rows.emplace_back(r.key_u64, r.window_start,
                      std::string(reinterpret_cast<const char*>(r.value.data()), r.value.size()),
                      r.offset);
    return true;
  }),
            serving::ReadStatus::kOk);
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST(EngineCrashTest, ShouldEndWithTheViewsOfOneUninterruptedRunAfter50Kills) {
  const std::string base = "/dev/shm/kappa-test-crash-" + std::to_string(::getpid());
  const std::string log_path = base + ".log";
  const std::string checkpoints = base + "-checkpoints";
  const std::string reference_checkpoints = base + "-reference-checkpoints";
  TempNamespace crashed, reference;
  // At the end, whether the test passed or an assertion stopped it: the worker still running is
  // killed (before the namespaces go), then the log and the checkpoints are removed.
  struct Cleanup {
    std::string log, dirs;
    pid_t worker = -1;
    ~Cleanup() {
      if (worker > 0) {
        ::kill(worker, SIGKILL);
        ::waitpid(worker, nullptr, 0);
      }
      ::unlink(log.c_str());
      std::system(("rm -rf " + dirs).c_str());
    }
  } cleanup{log_path, checkpoints + " " + reference_checkpoints};
  ::unlink(log_path.c_str());
  std::system(("rm -rf " + cleanup.dirs).c_str());
  {
    memlog::CreateOptions o;
    o.capacity = std::uint64_t{1} << 27;
    auto log = std::move(memlog::Log::Create(log_path, o)).value();
    auto producer = std::move(log->NewProducer()).value();
    std::mt19937_64 rng(11);
    std::int64_t clock = 0;
    auto append = [&](int n) {
      for (int i = 0; i < n; ++i) {
        clock += static_cast<std::int64_t>(rng() % 20);
        const Click c{static_cast<std::int64_t>(rng() % 2000),
                      static_cast<std::int64_t>(rng() % 50),
                      static_cast<std::int64_t>(rng() % 1000),
                      clock - static_cast<std::int64_t>(rng() % 400)};
        ASSERT_EQ(
            producer->Append(std::as_bytes(std::span(&c, 1)), RecordType<Click>::kLogType, c.time),
            memlog::AppendResult::kOk);
      }
    };
    std::mt19937 kill_rng(12);
    int kills = 0, finished = 0, restored = 0;
    while (kills < 50) {
      append(20000);  // the log grows while the engine works and dies
      int out = -1;
      const pid_t pid = Spawn({log_path, crashed.path(), checkpoints, "5"}, &out);
      cleanup.worker = pid;
      ASSERT_GT(pid, 0);
      // Killed at a random moment after its jobs started: while they read, process, write views
      // and checkpoint.
      const std::string said = ReadUntilStarted(out, std::chrono::seconds(60));
      for (std::size_t at = said.find(" restored"); at != std::string::npos;
           at = said.find(" restored", at + 1))
        ++restored;
      std::this_thread::sleep_for(std::chrono::milliseconds(kill_rng() % 40));
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        cleanup.worker = -1;
        ::close(out);
        ++finished;  // it caught up before the kill: fine, the next one has more to do
        continue;
      }
      ::kill(pid, SIGKILL);
      Wait(pid);
      cleanup.worker = -1;
      ::close(out);
      ++kills;
    }
    RecordProperty("runs_finished_before_their_kill", finished);
    // Most runs resumed their jobs from a checkpoint of a run that was killed.
    EXPECT_GT(restored, 3 * 50 / 2);
    // The last run goes to the end; then one uninterrupted run over the same log.
    int out = -1;
    const pid_t last = Spawn({log_path, crashed.path(), checkpoints, "5"}, &out);
    cleanup.worker = last;
    const std::string said = ReadUntilStarted(out, std::chrono::seconds(60));
    const int last_status = Wait(last);
    cleanup.worker = -1;
    ::close(out);
    ASSERT_EQ(last_status, 0);
    for (const char* job : {"clicks_per_user", "amount_per_page", "busiest_page"})
      EXPECT_NE(said.find(std::string(job) + " restored"), std::string::npos) << said;
    const pid_t whole = Spawn({log_path, reference.path(), reference_checkpoints, "1000"}, &out);
    cleanup.worker = whole;
    ReadUntilStarted(out, std::chrono::seconds(60));
    const int whole_status = Wait(whole);
    cleanup.worker = -1;
    ::close(out);
    ASSERT_EQ(whole_status, 0);
  }
  for (const char* view : {"clicks_per_user", "amount_per_page", "busiest_page"}) {
    const auto want = Rows(reference.path(), view);
    const auto got = Rows(crashed.path(), view);
    EXPECT_GT(want.size(), 100u) << view;
    EXPECT_EQ(got.size(), want.size()) << view;
    EXPECT_TRUE(got == want) << view << ": the views differ after the kills";
  }
}

}  // namespace
}  // namespace kappa::engine
