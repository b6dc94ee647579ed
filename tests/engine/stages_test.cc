// Pipelines of several keyed stages: a keyed operator's results keyed again and aggregated again
// in one job. Each is compared with a reference computed here, across partition counts and batch
// sizes, live against replay, and across a restart from a checkpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <thread>
#include <tuple>
#include <utility>

#include "engine/engine.h"
#include "engine/results.h"
#include "serving/view_reader.h"
#include "tests/engine/test_util.h"
#include "tests/serving/test_util.h"

namespace kappa::engine::testing {

// The page with the most clicks in a window (the smaller page of equal ones).
struct HottestPage {
  std::int64_t page;
  std::int64_t clicks;
};

}  // namespace kappa::engine::testing

KAPPA_RECORD(kappa::engine::testing::HottestPage, 11, page, clicks);

namespace kappa::engine::testing {

// A page tied for the most clicks of a window.
struct TiedPage {
  std::int64_t window_start;
  std::int64_t page;
  std::int64_t clicks;
};

// A click at the highest amount (in hundreds) of its page's window.
struct TopClick {
  std::int64_t window_start;
  std::int64_t page;
  std::int64_t user;
  std::int64_t amount;
  std::int64_t time;
};

}  // namespace kappa::engine::testing

KAPPA_RECORD(kappa::engine::testing::TiedPage, 12, window_start, page, clicks);
KAPPA_RECORD(kappa::engine::testing::TopClick, 13, window_start, page, user, amount, time);

namespace kappa::engine {
namespace {

using serving::testing::TempNamespace;
using testing::Click;
using testing::HottestPage;
using testing::MakeClicks;
using testing::MakeEngine;
using testing::TempLog;
using testing::TiedPage;
using testing::TopClick;

using PageWindow = WindowResult<std::int64_t, std::int64_t>;  // a page's clicks in a window

struct Hottest {
  using Input = PageWindow;
  using Acc = HottestPage;
  using Output = HottestPage;
  Acc Init() const { return {-1, 0}; }
  void Add(Acc& acc, const PageWindow& r) const { Merge(acc, HottestPage{r.key, r.value}); }
  void Merge(Acc& into, const Acc& from) const {
    if (from.clicks > into.clicks || (from.clicks == into.clicks && from.page < into.page))
      into = from;
  }
  Output Result(const Acc& acc) const { return acc; }
};

constexpr std::int64_t kSize = 20000, kSlide = 5000, kBound = 2000;

// Clicks per page in hopping windows, keyed again by window start: the first stage of the jobs
// below.
auto PageCountsByWindow(const std::string& log, const std::string& name) {
  return From<Click>(name, log)
      .EventTime([](const Click& c) { return c.time; }, kBound)
      .KeyBy([](const Click& c) { return c.page; })
      .Window(operators::HoppingWindows(kSize, kSlide))
      .Aggregate(operators::Count<Click>{})
      .KeyBy([](const PageWindow& r) { return r.start; });
}

// Then the hottest page of each window: one job.
Job HottestPages(const std::string& log, const std::string& name = "hottest") {
  return PageCountsByWindow(log, name).Aggregate(Hottest{}).ToView(
      name, ViewSinkOptions{.key_name = "window_start"});
}

// The reference's clicks per (window start, page): a record counts in the windows whose end is
// past the watermark before it.
std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> CountsReference(
    const std::vector<Click>& clicks) {
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> counts;
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  for (const Click& c : clicks) {
    const std::int64_t wm =
        max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - kBound;
    operators::HoppingWindows(kSize, kSlide).Assign(c.time, [&](const operators::Window& w) {
      if (w.end > wm) ++counts[{w.start, c.page}];
    });
    max_time = std::max(max_time, c.time);
  }
  return counts;
}

// Each window's hottest page.
std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> HottestReference(
    const std::vector<Click>& clicks) {
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> ref;  // start -> (page, n)
  for (const auto& [at, n] : CountsReference(clicks)) {
    auto [it, inserted] = ref.try_emplace(at.first, at.second, n);
    if (!inserted && n > it->second.second) it->second = {at.second, n};
  }
  return ref;
}

// Every page tied for the most clicks of each window (ArgMax in the second stage, in the tumbling
// window of the slide that holds each window's last instant), into a list: one job.
Job TiedPages(const std::string& log, const std::string& name = "tied") {
  return PageCountsByWindow(log, name)
      .Window(operators::TumblingWindows(kSlide))
      .ArgMax([](const PageWindow& r) { return r.value; })
      .Map([](const WindowResult<std::int64_t, PageWindow>& r) {
        return TiedPage{r.key, r.value.key, r.value.value};
      })
      .ToList(name, 1 << 20);
}

// The reference: each window's pages with the most clicks.
std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> TiedReference(
    const std::vector<Click>& clicks, std::size_t* tied_windows) {
  std::map<std::int64_t, std::map<std::int64_t, std::int64_t>> counts;  // start -> page -> n
  for (const auto& [at, n] : CountsReference(clicks)) counts[at.first][at.second] = n;
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> ref;
  *tied_windows = 0;
  for (const auto& [start, pages] : counts) {
    std::int64_t most = 0;
    for (const auto& [page, n] : pages) most = std::max(most, n);
    std::size_t tied = 0;
    for (const auto& [page, n] : pages) {
      if (n != most) continue;
      ref.emplace_back(start, page, n);
      ++tied;
    }
    *tied_windows += tied > 1;
  }
  return ref;
}

// The clicks at the highest amount in hundreds of each page's tumbling window, a click at a
// window's end instant tying with it too: ArgMax in the first stage, its windows open across
// checkpoints.
Job TopClicks(const std::string& log, const std::string& name = "top") {
  return From<Click>(name, log)
      .EventTime([](const Click& c) { return c.time; }, kBound)
      .KeyBy([](const Click& c) { return c.page; })
      .Window(operators::TumblingWindows(kSize))
      .ArgMax([](const Click& c) { return c.amount / 100; }, ArgMaxOptions{.include_end = true})
      .Map([](const WindowResult<std::int64_t, Click>& r) {
        return TopClick{r.start, r.key, r.value.user, r.value.amount, r.value.time};
      })
      .ToList(name, 1 << 20);
}

// The reference: a click is in its window while the watermark before it is below the window's
// end instant, and ties with the window it ends while that is so too.
std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>
TopClicksReference(const std::vector<Click>& clicks, std::size_t* at_ends) {
  struct Group {
    std::int64_t max = -1;
    std::vector<Click> seen;  // members and candidates
  };
  std::map<std::pair<std::int64_t, std::int64_t>, Group> groups;  // (start, page)
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  for (const Click& c : clicks) {
    const std::int64_t wm =
        max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - kBound;
    const std::int64_t start = operators::FloorTo(c.time, kSize);
    if (start + kSize >= wm) {
      Group& g = groups[{start, c.page}];
      g.max = std::max(g.max, c.amount / 100);
      g.seen.push_back(c);
    }
    if (c.time == start && start >= wm) groups[{start - kSize, c.page}].seen.push_back(c);
    max_time = std::max(max_time, c.time);
  }
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>> ref;
  *at_ends = 0;
  for (const auto& [at, g] : groups) {
    for (const Click& c : g.seen) {
      if (c.amount / 100 != g.max) continue;
      ref.emplace_back(at.first, at.second, c.user, c.amount, c.time);
      *at_ends += c.time == at.first + kSize;
    }
  }
  std::sort(ref.begin(), ref.end());
  return ref;
}

// The list's rows, in list order.
std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> ReadTied(
    const TempNamespace& ns, const std::string& view) {
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> got;
  auto reader = serving::ViewReader::Open(ns.path(), view);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return got;
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& row) {
    TiedPage t;
    std::memcpy(&t, row.value.data(), sizeof t);
    got.emplace_back(t.window_start, t.page, t.clicks);
    return true;
  }),
            serving::ReadStatus::kOk);
  return got;
}

std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> ReadHottest(const TempNamespace& ns,
                                                                          const std::string& view) {
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> got;
  auto reader = serving::ViewReader::Open(ns.path(), view);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return got;
  EXPECT_EQ((*reader)->Scan([&](const serving::RowView& row) {
    HottestPage h;
    std::memcpy(&h, row.value.data(), sizeof h);
    got[static_cast<std::int64_t>(row.key_u64)] = {h.page, h.clicks};
    return true;
  }),
            serving::ReadStatus::kOk);
  return got;
}

TEST(StagesTest, ShouldFindTheHottestPageOfEachWindowInOneJobLikeAReference) {
  const auto clicks = MakeClicks(40000, 2, 3000);
  const auto ref = HottestReference(clicks);
  ASSERT_GT(ref.size(), 100u);
  for (auto [partitions, batch] : {std::pair{1, 4096}, std::pair{2, 64}, std::pair{4, 1000}}) {
    TempLog log;
    TempNamespace ns;
    for (const Click& c : clicks) log.Append(c, c.time);
    auto engine = MakeEngine(ns, partitions, Mode::kThroughput, static_cast<std::size_t>(batch));
    auto running = std::move(engine->Start(HottestPages(log.path()))).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
    running->FlushWindows();  // the end of the input: every window of both stages fires
    ASSERT_TRUE(running->status().ok()) << running->status().message();
    EXPECT_EQ(ReadHottest(ns, "hottest"), ref) << partitions << " partitions, batches of " << batch;
    EXPECT_EQ(running->Stats().records_in, clicks.size());
  }
}

// A running aggregate's stream (one result per record), filtered and keyed again: how many users
// reached each multiple of 10 clicks.
TEST(StagesTest, ShouldFilterAndRekeyARunningAggregatesResults) {
  const auto clicks = MakeClicks(30000, 5, 0);
  std::map<std::int64_t, std::int64_t> per_user, ref;  // user -> clicks; milestone -> users
  for (const Click& c : clicks)
    if (++per_user[c.user] % 10 == 0) ++ref[per_user[c.user]];
  for (int partitions : {1, 4}) {
    TempLog log;
    TempNamespace ns;
    for (const Click& c : clicks) log.Append(c, c.time);
    auto engine = MakeEngine(ns, partitions, Mode::kThroughput, 512);
    Job job =
        From<Click>("milestones", log.path())
            .KeyBy([](const Click& c) { return c.user; })
            .Aggregate(operators::Count<Click>{})
            .Filter(
                [](const KeyedResult<std::int64_t, std::int64_t>& r) { return r.value % 10 == 0; })
            .KeyBy([](const KeyedResult<std::int64_t, std::int64_t>& r) { return r.value; })
            .Aggregate(operators::Count<KeyedResult<std::int64_t, std::int64_t>>{})
            .ToView("milestones", ViewSinkOptions{.key_name = "clicks", .value_name = "users"});
    auto running = std::move(engine->Start(job)).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
    std::map<std::int64_t, std::int64_t> got;
    auto reader = std::move(serving::ViewReader::Open(ns.path(), "milestones")).value();
    ASSERT_EQ(reader->Scan([&](const serving::RowView& row) {
      std::int64_t n;
      std::memcpy(&n, row.value.data(), 8);
      got[static_cast<std::int64_t>(row.key_u64)] = n;
      return true;
    }),
              serving::ReadStatus::kOk);
    EXPECT_EQ(got, ref) << partitions << " partitions";
  }
}

// Window results into a list, as rows of (key, window_start, window_end, value).
TEST(StagesTest, ShouldListWindowResultsWithTheirWindows) {
  TempLog log;
  TempNamespace ns;
  const auto clicks = MakeClicks(5000, 9, 0);
  std::map<std::tuple<std::int64_t, std::int64_t>, std::int64_t> ref;  // (page, start) -> n
  for (const Click& c : clicks) ++ref[{c.page, operators::FloorTo(c.time, 10000)}];
  for (const Click& c : clicks) log.Append(c, c.time);
  auto engine = MakeEngine(ns, 2);
  Job job = From<Click>("page_windows", log.path())
                .EventTime([](const Click& c) { return c.time; }, 0)
                .KeyBy([](const Click& c) { return c.page; })
                .Window(operators::TumblingWindows(10000))
                .Aggregate(operators::Count<Click>{})
                .ToList("page_windows", 1 << 16, ViewSinkOptions{.key_name = "page"});
  auto running = std::move(engine->Start(job)).value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(60)));
  running->FlushWindows();
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "page_windows")).value();
  const serving::Schema& schema = reader->schema();
  ASSERT_EQ(schema.size(), 4u);
  EXPECT_EQ(schema.field(0).name, "page");
  EXPECT_EQ(schema.field(1).name, "window_start");
  EXPECT_EQ(schema.field(2).name, "window_end");
  EXPECT_EQ(schema.field(3).name, "value");
  std::map<std::tuple<std::int64_t, std::int64_t>, std::int64_t> got;
  std::int64_t last_end = std::numeric_limits<std::int64_t>::min();
  bool in_order = true;
  ASSERT_EQ(reader->Scan([&](const serving::RowView& row) {
    std::int64_t v[4];
    std::memcpy(v, row.value.data(), sizeof v);
    EXPECT_EQ(v[2], v[1] + 10000);
    in_order = in_order && v[2] >= last_end;
    last_end = v[2];
    got[{v[0], v[1]}] = v[3];
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(got, ref);
  EXPECT_TRUE(in_order) << "results of all partitions, by event time";
}

TEST(StagesTest, ShouldGiveTheSameResultsLiveAndOnReplay) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2, Mode::kLowLatency);
  auto live = std::move(engine->Start(HottestPages(log.path()))).value();
  const auto clicks = MakeClicks(30000, 10, 3000);
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    log.Append(clicks[i], clicks[i].time);
    if (i % 1000 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // live, in small batches
  }
  ASSERT_TRUE(live->WaitCaughtUp(std::chrono::seconds(60)));
  auto replay = engine->Reprocess(HottestPages(log.path()));
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  const auto a = testing::SortedRows(ns, "hottest@1");
  const auto b = testing::SortedRows(ns, "hottest@2");
  EXPECT_GT(a.size(), 100u);
  EXPECT_TRUE(a == b) << a.size() << " rows live, " << b.size() << " on replay";
  EXPECT_GT(live->Stats().batches, (*replay)->Stats().batches);  // really cut differently
}

// Runs make_job() over the first half of `clicks` and stops it (it checkpoints), appends the rest
// and starts it again from its checkpoint (*engine runs it), until caught up with every window
// flushed: the restarted job, or nullptr after a failed expectation.
template <class MakeJob>
std::unique_ptr<RunningJob> ResumedHalfWay(TempLog& log, const std::vector<Click>& clicks,
                                           const EngineOptions& o, MakeJob make_job,
                                           std::unique_ptr<Engine>* engine) {
  for (std::size_t i = 0; i < clicks.size() / 2; ++i) log.Append(clicks[i], clicks[i].time);
  {
    auto first = std::move(Engine::Create(o)).value();
    auto running = std::move(first->Start(make_job())).value();
    EXPECT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    running->Stop();
    EXPECT_GE(running->checkpoints(), 1u);
  }
  for (std::size_t i = clicks.size() / 2; i < clicks.size(); ++i)
    log.Append(clicks[i], clicks[i].time);
  *engine = std::move(Engine::Create(o)).value();
  auto running = std::move((*engine)->Start(make_job())).value();
  EXPECT_TRUE(running->restored());
  if (!running->WaitCaughtUp(std::chrono::seconds(30))) {
    ADD_FAILURE() << "not caught up";
    return nullptr;
  }
  running->FlushWindows();
  return running;
}

// Stopped half way and restarted from its checkpoint (both stages' state in it), the job ends
// with what one run over everything gives.
TEST(StagesTest, ShouldResumeBothStagesFromACheckpoint) {
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  const EngineOptions o = testing::CheckpointingOptions(ns, dir);
  const auto clicks = MakeClicks(20000, 12, 3000);
  const auto ref = HottestReference(clicks);
  std::unique_ptr<Engine> engine;
  auto running = ResumedHalfWay(
      log, clicks, o, [&] { return HottestPages(log.path()); }, &engine);
  ASSERT_NE(running, nullptr);
  EXPECT_EQ(running->Stats().records_in, clicks.size() - clicks.size() / 2);
  EXPECT_EQ(ReadHottest(ns, "hottest"), ref);
  running.reset();
  std::system(("rm -rf " + dir).c_str());
}

// Every tied page of every window, across partition counts and live against replay: the
// reference's rows, each once, windows in order.
TEST(StagesTest, ShouldListEveryTiedPageOfEachWindowLiveAndOnReplay) {
  const auto clicks = MakeClicks(20000, 13, 3000);
  std::size_t tied_windows = 0;
  const auto ref = TiedReference(clicks, &tied_windows);
  ASSERT_GT(tied_windows, 10u);
  auto by_window = [](auto rows) {  // the order within a window is the partitions' meeting order
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    return rows;
  };
  for (const int partitions : {1, 4}) {
    SCOPED_TRACE(partitions);
    TempLog log;
    TempNamespace ns;
    auto engine = MakeEngine(ns, partitions, Mode::kLowLatency);
    auto live = std::move(engine->Start(TiedPages(log.path()))).value();
    for (std::size_t i = 0; i < clicks.size(); ++i) {
      log.Append(clicks[i], clicks[i].time);
      if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(live->WaitCaughtUp(std::chrono::seconds(60)));
    live->FlushWindows();
    auto replay = engine->Reprocess(TiedPages(log.path()));
    ASSERT_TRUE(replay.ok()) << replay.status().message();
    (*replay)->FlushWindows();
    const auto a = ReadTied(ns, "tied@1"), b = ReadTied(ns, "tied@2");
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, ref);
    EXPECT_EQ(by_window(a), a) << "windows in order";
    EXPECT_EQ(a, b) << "live and replay";
  }
}

// Clicks at their page's window's highest amount, stopped half way with windows open and
// restarted from the checkpoint (the records ArgMax keeps in it): the rows of one run, each once.
TEST(StagesTest, ShouldResumeArgMaxsOpenWindowsFromACheckpoint) {
  // Clicks on whole multiples of 50 so that some fall on window ends.
  auto clicks = MakeClicks(20000, 14, 3000);
  for (Click& c : clicks) c.time -= c.time % 50;
  std::size_t at_ends = 0;
  const auto ref = TopClicksReference(clicks, &at_ends);
  ASSERT_GT(at_ends, 0u);
  ASSERT_GT(ref.size(), 1000u);
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  const EngineOptions o = testing::CheckpointingOptions(ns, dir);
  std::unique_ptr<Engine> engine;
  auto running = ResumedHalfWay(
      log, clicks, o, [&] { return TopClicks(log.path()); }, &engine);
  ASSERT_NE(running, nullptr);
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>> got;
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "top")).value();
  EXPECT_EQ(reader->Scan([&](const serving::RowView& row) {
    TopClick t;
    std::memcpy(&t, row.value.data(), sizeof t);
    got.emplace_back(t.window_start, t.page, t.user, t.amount, t.time);
    return true;
  }),
            serving::ReadStatus::kOk);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, ref);
  reader.reset();
  running.reset();
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace kappa::engine
