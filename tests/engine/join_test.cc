// Joins, session windows and late-record logs on generated streams, each compared with a
// reference computed here from the log's order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "memlog/log.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"
#include "tests/engine/test_util.h"

namespace kappa::engine::testing {

// A page's description; a later record for the same page replaces it.
struct Page {
  std::int64_t page;
  std::int64_t category;
  std::int64_t owner;
  std::int64_t time;
};

// A click with what was known of its page.
struct Visit {
  std::int64_t user;
  std::int64_t page;
  std::int64_t category;  // -1: the page was unknown
  std::int64_t amount;
  bool operator==(const Visit&) const = default;
};

inline void PrintTo(const Visit& v, std::ostream* os) {
  *os << "{user " << v.user << " page " << v.page << " category " << v.category << " amount "
      << v.amount << "}";
}

}  // namespace kappa::engine::testing

KAPPA_RECORD(kappa::engine::testing::Page, 8, page, category, owner, time);

KAPPA_RECORD(kappa::engine::testing::Visit, 9, user, page, category, amount);

namespace kappa::engine::testing {
namespace {

constexpr std::int64_t kWindow = 2000;  // the window joins' tumbling windows, ns

// One log record of either kind, in log order.
struct Event {
  bool is_page;
  Click click;
  Page page;
  std::int64_t time() const { return is_page ? page.time : click.time; }
};

// Clicks with page descriptions mixed in (about one in eight), times rising with up to
// `disorder` ns of disorder.
std::vector<Event> MakeEvents(std::size_t n, std::uint64_t seed, std::int64_t disorder) {
  std::mt19937_64 rng(seed);
  std::vector<Event> events;
  for (const Click& c : MakeClicks(n, seed, disorder)) {
    if (rng() % 8 == 0) {
      const Page p{static_cast<std::int64_t>(rng() % 40), static_cast<std::int64_t>(rng() % 5),
                   static_cast<std::int64_t>(rng() % 1000),
                   c.time - static_cast<std::int64_t>(rng() % (disorder + 1))};
      events.push_back(Event{true, {}, p});
    }
    events.push_back(Event{false, c, {}});
  }
  return events;
}

void AppendAll(TempLog& log, const std::vector<Event>& events) {
  for (const Event& e : events) {
    if (e.is_page) {
      log.Append(e.page, e.page.time);
    } else {
      log.Append(e.click, e.click.time);
    }
  }
}

auto ClicksByPage(const std::string& job, const std::string& log) {
  return From<Click>(job, log).KeyBy([](const Click& c) { return c.page; });
}
auto PagesByPage(const std::string& log) {
  return From<Page>("", log).KeyBy([](const Page& p) { return p.page; });
}

TEST(JoinTest, ShouldMeetEachClickWithItsPageAsOfItsPlaceInTheLog) {
  TempLog log;
  TempNamespace ns;
  const auto events = MakeEvents(20000, 21, 0);
  AppendAll(log, events);
  // Reference: the latest page description before each click.
  std::map<std::int64_t, Page> table;
  std::vector<Visit> inner, outer;
  std::map<std::int64_t, Visit> last_per_page;
  for (const Event& e : events) {
    if (e.is_page) {
      table[e.page.page] = e.page;
      continue;
    }
    const auto it = table.find(e.click.page);
    const Visit v{e.click.user, e.click.page, it == table.end() ? -1 : it->second.category,
                  e.click.amount};
    outer.push_back(v);
    if (it != table.end()) {
      inner.push_back(v);
      last_per_page[v.page] = v;
    }
  }
  ASSERT_LT(inner.size(), outer.size());  // some clicks came before their page

  auto engine = MakeEngine(ns, 4);
  // Inner join into a keyed view: each page's latest visit.
  auto view_job =
      std::move(engine->Start(ClicksByPage("visits", log.path())
                                  .Join(PagesByPage(log.path()))
                                  .Select([](const Click& c, const Page& p) {
                                    return Visit{c.user, c.page, p.category, c.amount};
                                  })
                                  .ToView("visits", ViewSinkOptions{.key_name = "page_id"})))
          .value();
  // Left outer join into a list: every click, in log order.
  auto list_job =
      std::move(engine->Start(ClicksByPage("all_visits", log.path())
                                  .Join(PagesByPage(log.path()))
                                  .Select([](const Click& c, const Page* p) {
                                    return Visit{c.user, c.page, p ? p->category : -1, c.amount};
                                  })
                                  .ToList("all_visits", 1 << 16)))
          .value();
  ASSERT_TRUE(view_job->WaitCaughtUp(std::chrono::seconds(30)));
  ASSERT_TRUE(list_job->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(ScanRows<Visit>(ns, "all_visits"), outer);
  std::map<std::int64_t, Visit> got;
  for (const Visit& v : ScanRows<Visit>(ns, "visits")) got[v.page] = v;
  EXPECT_EQ(got.size(), last_per_page.size());
  for (const auto& [page, v] : last_per_page) EXPECT_EQ(got[page], v) << "page " << page;
  EXPECT_EQ(view_job->Stats().results, inner.size());
}

// Both sides read one record type: each click meets the previous click of its user (the table
// is looked up before the record updates it).
TEST(JoinTest, ShouldMeetEachRecordWithThePreviousOneOfItsKeyWhenBothSidesReadOneType) {
  TempLog log;
  TempNamespace ns;
  const auto clicks = MakeClicks(5000, 22, 0);
  for (const Click& c : clicks) log.Append(c, c.time);
  std::map<std::int64_t, Click> previous;
  std::vector<Visit> ref;  // (user, this page, previous page, this amount)
  for (const Click& c : clicks) {
    if (auto it = previous.find(c.user); it != previous.end())
      ref.push_back(Visit{c.user, c.page, it->second.page, c.amount});
    previous[c.user] = c;
  }
  auto by_user = [&](const std::string& job) {
    return From<Click>(job, log.path()).KeyBy([](const Click& c) { return c.user; });
  };
  auto engine = MakeEngine(ns, 2);
  auto job =
      std::move(engine->Start(by_user("repeat_visits")
                                  .Join(by_user(""))
                                  .Select([](const Click& now, const Click& before) {
                                    return Visit{now.user, now.page, before.page, now.amount};
                                  })
                                  .ToList("repeat_visits")))
          .value();
  ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(ScanRows<Visit>(ns, "repeat_visits"), ref);
}

// Reference for a tumbling-window join of clicks and pages on event time: a record is late
// when its window ended at or before the watermark (the largest time seen before it, less the
// bound); windows fire in start order, keys in order, pairs in log order. `keep` filters pairs.
struct WindowJoinReference {
  std::vector<Visit> pairs;
  std::uint64_t late = 0;
};
WindowJoinReference WindowJoin(const std::vector<Event>& events, std::int64_t size,
                               std::int64_t bound, bool (*keep)(const Click&, const Page&)) {
  WindowJoinReference ref;
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  std::map<std::int64_t, std::map<std::int64_t, std::pair<std::vector<Click>, std::vector<Page>>>>
      windows;
  for (const Event& e : events) {
    const std::int64_t t = e.time();
    const std::int64_t watermark =
        max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - bound;
    max_time = std::max(max_time, t);
    const std::int64_t start = operators::FloorTo(t, size);
    if (start + size <= watermark) {
      ++ref.late;
      continue;
    }
    auto& [clicks, pages] = windows[start][e.is_page ? e.page.page : e.click.page];
    if (e.is_page) {
      pages.push_back(e.page);
    } else {
      clicks.push_back(e.click);
    }
  }
  for (const auto& [start, keys] : windows) {
    for (const auto& [key, sides] : keys) {
      for (const Click& c : sides.first) {
        for (const Page& p : sides.second) {
          if (keep(c, p)) ref.pairs.push_back(Visit{c.user, c.page, p.category, start});
        }
      }
    }
  }
  return ref;
}

TEST(JoinTest, ShouldJoinTwoStreamsPerEventTimeWindowAndCountLateRecords) {
  constexpr std::int64_t kSize = kWindow, kBound = 300;
  TempLog log;
  TempNamespace ns;
  const auto events = MakeEvents(30000, 23, 600);
  AppendAll(log, events);
  auto keep = +[](const Click& c, const Page& p) { return (c.amount + p.owner) % 3 != 0; };
  const WindowJoinReference ref = WindowJoin(events, kSize, kBound, keep);
  ASSERT_GT(ref.late, 0u);
  ASSERT_GT(ref.pairs.size(), 1000u);

  auto job = [&](const std::string& name) {
    return From<Click>(name, log.path())
        .EventTime([](const Click& c) { return c.time; }, kBound)
        .KeyBy([](const Click& c) { return c.page; })
        .WindowJoin(From<Page>("", log.path())
                        .EventTime([](const Page& p) { return p.time; }, kBound)
                        .KeyBy([](const Page& p) { return p.page; }),
                    operators::TumblingWindows(kSize));
  };
  // Written with the window's start in the amount field, for the comparison.
  auto select = [keep](const Click& c, const Page& p) -> std::optional<Visit> {
    if (!keep(c, p)) return std::nullopt;
    return Visit{c.user, c.page, p.category, operators::FloorTo(std::max(c.time, p.time), kWindow)};
  };
  auto engine = MakeEngine(ns, 2, Mode::kThroughput, 333);
  auto list = std::move(engine->Start(job("met").Select(select).ToList("met", 1 << 20))).value();
  auto view =
      std::move(
          engine->Start(job("met_view").Select(select).ToView("met_view", {.windows_per_key = 64})))
          .value();
  ASSERT_TRUE(list->WaitCaughtUp(std::chrono::seconds(30)));
  ASSERT_TRUE(view->WaitCaughtUp(std::chrono::seconds(30)));
  list->FlushWindows();
  view->FlushWindows();
  EXPECT_EQ(list->Stats().late, ref.late);
  EXPECT_EQ(view->Stats().late, ref.late);
  EXPECT_EQ(ScanRows<Visit>(ns, "met"), ref.pairs);
  // The windowed view keeps the last pair of each (page, window).
  std::map<std::pair<std::int64_t, std::int64_t>, Visit> last;
  for (const Visit& v : ref.pairs) last[{v.page, v.amount}] = v;
  std::map<std::pair<std::int64_t, std::int64_t>, Visit> got;
  auto reader = std::move(serving::ViewReader::Open(ns.path(), "met_view")).value();
  EXPECT_EQ(reader->Scan([&](const serving::RowView& r) {
    Visit v;
    std::memcpy(&v, r.value.data(), sizeof v);
    EXPECT_EQ(r.window_start, v.amount);
    got[{static_cast<std::int64_t>(r.key_u64), r.window_start}] = v;
    return true;
  }),
            serving::ReadStatus::kOk);
  EXPECT_EQ(got, last);
}

// A window join resumed from a checkpoint ends with the results of one uninterrupted run.
TEST(JoinTest, ShouldResumeAWindowJoinFromItsCheckpoint) {
  constexpr std::int64_t kSize = kWindow;
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  const auto events = MakeEvents(20000, 24, 0);
  auto all = +[](const Click&, const Page&) { return true; };
  const WindowJoinReference ref = WindowJoin(events, kSize, 0, all);
  EngineOptions o;
  o.threads = 2;
  o.partitions = 2;
  o.view_namespace = ns.path();
  o.checkpoint_dir = dir;
  auto job = [&] {
    return From<Click>("met", log.path())
        .EventTime([](const Click& c) { return c.time; }, 0)
        .KeyBy([](const Click& c) { return c.page; })
        .WindowJoin(From<Page>("", log.path())
                        .EventTime([](const Page& p) { return p.time; }, 0)
                        .KeyBy([](const Page& p) { return p.page; }),
                    operators::TumblingWindows(kSize))
        .Select([](const Click& c, const Page& p) {
          return Visit{c.user, c.page, p.category,
                       operators::FloorTo(std::max(c.time, p.time), kWindow)};
        })
        .ToList("met", 1 << 20);
  };
  const std::vector<Event> first(events.begin(), events.begin() + events.size() / 2);
  const std::vector<Event> second(events.begin() + events.size() / 2, events.end());
  AppendAll(log, first);
  {
    auto engine = std::move(Engine::Create(o)).value();
    auto running = std::move(engine->Start(job())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    running->Stop();
  }
  AppendAll(log, second);
  auto engine = std::move(Engine::Create(o)).value();
  auto running = std::move(engine->Start(job())).value();
  EXPECT_TRUE(running->restored());
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  running->FlushWindows();
  EXPECT_EQ(ScanRows<Visit>(ns, "met"), ref.pairs);
  std::system(("rm -rf " + dir).c_str());
}

// The regular join's reference: in log order, each record meets the kept records of the other
// side with its page (in the order they came), after those whose time + retention is before the
// watermark before it have gone; then it is kept.
std::vector<Visit> RegularJoin(const std::vector<Event>& events, std::int64_t bound,
                               std::int64_t retention, std::size_t* met_by_pages = nullptr) {
  auto gone = [&](std::int64_t time, std::int64_t wm) {
    return retention != operators::kForever && time + retention < wm;
  };
  std::map<std::int64_t, std::vector<Click>> clicks;
  std::map<std::int64_t, std::vector<Page>> pages;
  std::vector<Visit> met;
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  for (const Event& e : events) {
    const std::int64_t wm =
        max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - bound;
    for (auto& [page, kept] : clicks)
      std::erase_if(kept, [&](const Click& c) { return gone(c.time, wm); });
    for (auto& [page, kept] : pages)
      std::erase_if(kept, [&](const Page& p) { return gone(p.time, wm); });
    if (e.is_page) {
      for (const Click& c : clicks[e.page.page]) {
        met.push_back(Visit{c.user, c.page, e.page.category, c.amount});
        if (met_by_pages) ++*met_by_pages;
      }
      pages[e.page.page].push_back(e.page);
    } else {
      for (const Page& p : pages[e.click.page])
        met.push_back(Visit{e.click.user, e.click.page, p.category, e.click.amount});
      clicks[e.click.page].push_back(e.click);
    }
    max_time = std::max(max_time, e.time());
  }
  return met;
}

auto RegularJoinJob(const std::string& log, const std::string& name, std::int64_t bound,
                    std::int64_t retention) {
  return From<Click>(name, log)
      .EventTime([](const Click& c) { return c.time; }, bound)
      .KeyBy([](const Click& c) { return c.page; })
      .RegularJoin(From<Page>("", log)
                       .EventTime([](const Page& p) { return p.time; }, bound)
                       .KeyBy([](const Page& p) { return p.page; }),
                   retention)
      .Select([](const Click& c, const Page& p) {
        return Visit{c.user, c.page, p.category, c.amount};
      });
}

// A regular join keeps both sides: a click meets the descriptions of its page that came before
// it and those that come after it, within the retention; every pair once, in log order.
TEST(JoinTest, ShouldMeetRecordsOfBothSidesWhicheverCameFirstWithinTheRetention) {
  constexpr std::int64_t kBound = 300, kRetention = 3000;
  const auto events = MakeEvents(20000, 31, kBound);
  std::size_t met_by_pages = 0;
  const std::vector<Visit> ref = RegularJoin(events, kBound, kRetention, &met_by_pages);
  // Some pairs met by their page coming after the click, and the retention dropped some.
  ASSERT_GT(met_by_pages, 1000u);
  ASSERT_LT(ref.size(), RegularJoin(events, kBound, operators::kForever).size());
  TempLog log;
  TempNamespace ns;
  AppendAll(log, events);
  auto engine = MakeEngine(ns, 4);
  auto list =
      std::move(
          engine->Start(
              RegularJoinJob(log.path(), "regular", kBound, kRetention).ToList("regular", 1 << 20)))
          .value();
  // The same join in four partitions, its results counted per page in a second stage.
  auto counted =
      std::move(engine->Start(RegularJoinJob(log.path(), "regular_counts", kBound, kRetention)
                                  .KeyBy([](const Visit& v) { return v.page; })
                                  .Aggregate(operators::Count<Visit>{})
                                  .ToView("regular_counts")))
          .value();
  ASSERT_TRUE(list->WaitCaughtUp(std::chrono::seconds(30)));
  ASSERT_TRUE(counted->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(ScanRows<Visit>(ns, "regular"), ref);
  std::map<std::int64_t, std::int64_t> want, got;
  for (const Visit& v : ref) ++want[v.page];
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  const auto counts = ScanRows<std::int64_t>(ns, "regular_counts", &keys);
  for (std::size_t i = 0; i < counts.size(); ++i)
    got[static_cast<std::int64_t>(keys[i].first)] = counts[i];
  EXPECT_EQ(got, want);
}

TEST(JoinTest, ShouldResumeARegularJoinFromItsCheckpoint) {
  constexpr std::int64_t kBound = 300, kRetention = 3000;
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  const auto events = MakeEvents(20000, 32, kBound);
  EngineOptions o;
  o.threads = 2;
  o.partitions = 2;
  o.view_namespace = ns.path();
  o.checkpoint_dir = dir;
  auto job = [&] {
    return RegularJoinJob(log.path(), "regular", kBound, kRetention).ToList("regular", 1 << 20);
  };
  AppendAll(log, {events.begin(), events.begin() + events.size() / 2});
  {
    auto engine = std::move(Engine::Create(o)).value();
    auto running = std::move(engine->Start(job())).value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    running->Stop();
  }
  AppendAll(log, {events.begin() + events.size() / 2, events.end()});
  auto engine = std::move(Engine::Create(o)).value();
  auto running = std::move(engine->Start(job())).value();
  EXPECT_TRUE(running->restored());
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(ScanRows<Visit>(ns, "regular"), RegularJoin(events, kBound, kRetention));
  std::system(("rm -rf " + dir).c_str());
}

TEST(JoinTest, ShouldLookUpAServingViewAndRefuseOneOfAnotherSchema) {
  TempLog log;
  TempNamespace ns;
  const auto clicks = MakeClicks(5000, 25, 0);
  for (const Click& c : clicks) log.Append(c, c.time);
  auto engine = MakeEngine(ns, 2);
  // The view another job would keep: pages with even ids.
  serving::KeyedTableOptions ko;
  ko.schema = std::move(RecordSchema<Page>()).value();
  ko.key_name = "page_id";
  auto pages =
      std::move(serving::KeyedTableWriter::Create(engine->views(), "pages", 1, ko)).value();
  for (std::int64_t p = 0; p < 40; p += 2) {
    const Page row{p, p % 5, p * 10, 0};
    ASSERT_EQ(pages->Upsert(static_cast<std::uint64_t>(p), std::as_bytes(std::span(&row, 1)), 0),
              serving::WriteResult::kOk);
  }
  ASSERT_TRUE(engine->views().Flip("pages", 1).ok());
  std::vector<Visit> ref;
  for (const Click& c : clicks) {
    if (c.page % 2 == 0) ref.push_back(Visit{c.user, c.page, c.page % 5, c.amount});
  }
  auto job = std::move(engine->Start(ClicksByPage("looked_up", log.path())
                                         .JoinView<Page>("pages")
                                         .Select([](const Click& c, const Page& p) {
                                           return Visit{c.user, c.page, p.category, c.amount};
                                         })
                                         .ToList("looked_up")))
                 .value();
  ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(ScanRows<Visit>(ns, "looked_up"), ref);

  auto wrong = engine->Start(ClicksByPage("wrong", log.path())
                                 .JoinView<Click>("pages")
                                 .Select([](const Click& c, const Click&) { return c; })
                                 .ToList("wrong"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("schema"), std::string::npos) << wrong.status().message();
  auto missing = engine->Start(ClicksByPage("missing", log.path())
                                   .JoinView<Page>("no_such_view")
                                   .Select([](const Click& c, const Page&) { return c; })
                                   .ToList("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no_such_view"), std::string::npos)
      << missing.status().message();
}

// One Source object gives both sides of a join; the job is named once, after what it writes.
TEST(JoinTest, ShouldReadBothSidesFromOneSourceAndNameTheJobOnce) {
  TempLog log, other;
  TempNamespace ns;
  const auto events = MakeEvents(5000, 33, 0);
  AppendAll(log, events);
  const Source events_log(log.path());
  auto by_page = [](const Source& s) {
    return s.Read<Click>().KeyBy([](const Click& c) { return c.page; });
  };
  auto pages = [](const Source& s) {
    return s.Read<Page>().KeyBy([](const Page& p) { return p.page; });
  };
  auto select = [](const Click& c, const Page& p) {
    return Visit{c.user, c.page, p.category, c.amount};
  };
  Job job = by_page(events_log).Join(pages(events_log)).Select(select).ToList("from_source");
  EXPECT_EQ(job.name(), "from_source");
  EXPECT_EQ(job.log(), log.path());
  EXPECT_EQ(job.error(), "");
  EXPECT_EQ(
      by_page(events_log.Named("mine")).Join(pages(events_log)).Select(select).ToList("v").name(),
      "mine");
  EXPECT_EQ(events_log.Read<Click>().ToLog(other.path() + ".derived").name(),
            other.path().substr(other.path().rfind('/') + 1) + ".derived");
  auto engine = MakeEngine(ns, 2);
  auto running = engine->Start(job);
  ASSERT_TRUE(running.ok()) << running.status().message();
  ASSERT_TRUE((*running)->WaitCaughtUp(std::chrono::seconds(30)));
  std::size_t want = 0;
  std::set<std::int64_t> described;
  for (const Event& e : events) {
    if (e.is_page)
      described.insert(e.page.page);
    else if (described.count(e.click.page))
      ++want;
  }
  EXPECT_EQ(ScanRows<Visit>(ns, "from_source").size(), want);
  // Two Source objects of two logs: a clear error when the job starts.
  auto two = engine->Start(
      by_page(events_log).Join(pages(Source(other.path()))).Select(select).ToList("two"));
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("both sides of a join must read one log"),
            std::string::npos)
      << two.status().message();
}

TEST(JoinTest, ShouldRefuseAJoinOfTwoLogs) {
  TempLog a, b;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 1);
  auto job = engine->Start(ClicksByPage("two_logs", a.path())
                               .Join(PagesByPage(b.path()))
                               .Select([](const Click& c, const Page&) { return c; })
                               .ToList("two_logs"));
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(job.status().message().find("one log"), std::string::npos) << job.status().message();
}

// Sessions of clicks per user: records at most one gap apart belong to one session (Flink's rule).
TEST(SessionTest, ShouldCountClicksPerSessionLikeAReference) {
  constexpr std::int64_t kGap = 400;
  TempLog log;
  TempNamespace ns;
  // Each user clicks every ~20,000 ns on average: sessions of a few clicks.
  const auto clicks = MakeClicks(20000, 26, 0);
  for (const Click& c : clicks) log.Append(c, c.time);
  struct Session {
    std::int64_t user, start, end, count;
    bool operator<(const Session& o) const {
      return std::tie(user, start, end, count) < std::tie(o.user, o.start, o.end, o.count);
    }
    bool operator==(const Session& o) const {
      return std::tie(user, start, end, count) == std::tie(o.user, o.start, o.end, o.count);
    }
  };
  std::map<std::int64_t, std::vector<Session>> per_user;
  for (const Click& c :
       clicks) {  // times rise: a click extends the user's last session or starts one
    auto& sessions = per_user[c.user];
    if (!sessions.empty() && c.time <= sessions.back().end) {
      sessions.back().end = c.time + kGap;
      ++sessions.back().count;
    } else {
      sessions.push_back(Session{c.user, c.time, c.time + kGap, 1});
    }
  }
  std::vector<Session> ref;
  for (const auto& [user, sessions] : per_user)
    ref.insert(ref.end(), sessions.begin(), sessions.end());
  std::sort(ref.begin(), ref.end());

  auto session_job = [&](const std::string& name) {
    // (Durations as std::chrono, nanoseconds of event time.)
    return From<Click>(name, log.path())
        .EventTime([](const Click& c) { return c.time; }, std::chrono::nanoseconds(0))
        .KeyBy([](const Click& c) { return c.user; })
        .Window(operators::SessionWindows(std::chrono::nanoseconds(kGap)), std::chrono::seconds(0))
        .Aggregate(operators::Count<Click>{});
  };
  auto engine = MakeEngine(ns, 2);
  auto list =
      std::move(
          engine->Start(session_job("sessions").ToList("sessions", 1 << 16, {.key_name = "user"})))
          .value();
  auto view =
      std::move(
          engine->Start(session_job("last_session").ToView("last_session", {.key_name = "user"})))
          .value();
  ASSERT_TRUE(list->WaitCaughtUp(std::chrono::seconds(30)));
  ASSERT_TRUE(view->WaitCaughtUp(std::chrono::seconds(30)));
  list->FlushWindows();
  view->FlushWindows();

  auto reader = std::move(serving::ViewReader::Open(ns.path(), "sessions")).value();
  const serving::Schema& s = reader->schema();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.field(0).name, "user");
  EXPECT_EQ(s.field(1).name, "session_start");
  EXPECT_EQ(s.field(2).name, "session_end");
  EXPECT_EQ(s.field(3).name, "value");
  std::vector<Session> got;
  EXPECT_EQ(reader->Scan([&](const serving::RowView& r) {
    got.push_back(Session{s.GetI64(r.value, 0), s.GetI64(r.value, 1), s.GetI64(r.value, 2),
                          s.GetI64(r.value, 3)});
    return true;
  }),
            serving::ReadStatus::kOk);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, ref);

  // The keyed view holds each user's last session.
  auto last = std::move(serving::ViewReader::Open(ns.path(), "last_session")).value();
  std::vector<std::byte> v(last->value_size());
  std::uint64_t offset;
  for (const auto& [user, sessions] : per_user) {
    ASSERT_EQ(last->Get(static_cast<std::uint64_t>(user), v, &offset), serving::ReadStatus::kOk)
        << user;
    const serving::Schema& ls = last->schema();
    EXPECT_EQ(ls.GetI64(v, 0), sessions.back().start) << user;
    EXPECT_EQ(ls.GetI64(v, 1), sessions.back().end) << user;
    EXPECT_EQ(ls.GetI64(v, 2), sessions.back().count) << user;
  }
}

// Records too late for every window go to the late log, exactly those, in log order.
// JoinUntil: a page's best click (highest amount) from the page's time to 100 ns after it; a
// page with none comes out with amount -1 (the select takes a pointer: an outer join).
auto BestClickPerPage(const std::string& job, const std::string& log, std::int64_t bound) {
  return From<Page>(job, log)
      .EventTime([](const Page& p) { return p.time; }, bound)
      .KeyBy([](const Page& p) { return p.page; })
      .JoinUntil(
          From<Click>("", log)
              .EventTime([](const Click& c) { return c.time; }, bound)
              .KeyBy([](const Click& c) { return c.page; }),
          [](const Page& p) { return p.time + 100; },
          [](const Click& a, const Click& best) { return a.amount > best.amount; })
      .Select([](const Page& p, const Click* c) {
        return Visit{c ? c->user : -1, p.page, p.category, c ? c->amount : -1};
      });
}

TEST(JoinTest, ShouldKeepTheBestRecordUntilTheDeadlineAndMeetEarlyOnes) {
  TempLog log;
  TempNamespace ns;
  auto engine = MakeEngine(ns, 2);
  auto running =
      std::move(engine->Start(BestClickPerPage("best", log.path(), 50).ToList("best"))).value();
  log.Append(Click{1, 1, 50, 100}, 100);  // before its page (waits for it), in range
  log.Append(Page{1, 7, 0, 90}, 90);      // open until 190
  log.Append(Click{2, 1, 70, 150}, 150);  // the best
  log.Append(Click{3, 1, 60, 160}, 160);
  log.Append(Click{4, 2, 10, 170}, 170);  // before its page
  log.Append(Page{2, 8, 0, 165}, 165);
  log.Append(Page{3, 9, 0, 175}, 175);          // never clicked
  log.Append(Click{5, 1, 99, 195}, 195);        // after page 1's deadline
  log.Append(Click{6, 4, 99, 10'000}, 10'000);  // moves the watermark past every deadline
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  auto rows = ScanRows<Visit>(ns, "best");
  std::sort(rows.begin(), rows.end(),
            [](const Visit& a, const Visit& b) { return a.page < b.page; });
  const std::vector<Visit> want = {{2, 1, 7, 70}, {4, 2, 8, 10}, {-1, 3, 9, -1}};
  EXPECT_EQ(rows, want);
}

TEST(JoinTest, ShouldResumeAJoinUntilADeadlineFromItsCheckpoint) {
  TempLog log;
  TempNamespace ns;
  const std::string dir = ns.path() + "-checkpoints";
  std::system(("rm -rf " + dir).c_str());
  EngineOptions o;
  o.threads = 2;
  o.view_namespace = ns.path();
  o.checkpoint_dir = dir;
  o.checkpoint_interval = std::chrono::milliseconds(1);
  const auto events = MakeEvents(20000, 33, 0);
  // The reference: pages in log order; a page closes at its deadline or when its key's next
  // page comes, with the best click of its key in range that came while it was open.
  struct Open {
    Page page;
    std::optional<Click> best;
  };
  std::map<std::int64_t, Open> open;
  std::vector<Visit> want;
  auto close = [&](const Open& x) {
    want.push_back(Visit{x.best ? x.best->user : -1, x.page.page, x.page.category,
                         x.best ? x.best->amount : -1});
  };
  for (const Event& e : events) {
    if (e.is_page) {
      if (auto it = open.find(e.page.page); it != open.end()) close(it->second);
      open[e.page.page] = Open{e.page, std::nullopt};
    } else if (auto it = open.find(e.click.page); it != open.end()) {
      Open& x = it->second;
      if (e.click.time >= x.page.time && e.click.time <= x.page.time + 100 &&
          (!x.best || e.click.amount > x.best->amount))
        x.best = e.click;
    }
  }
  for (const auto& [page, x] : open) close(x);
  {
    AppendAll(log, std::vector<Event>(events.begin(), events.begin() + 10000));
    auto engine = std::move(Engine::Create(o)).value();
    auto running =
        std::move(engine->Start(BestClickPerPage("best", log.path(), 0).ToList("best", 1 << 20)))
            .value();
    ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
    running->Stop();
    EXPECT_GE(running->checkpoints(), 1u);
  }
  AppendAll(log, std::vector<Event>(events.begin() + 10000, events.end()));
  auto engine = std::move(Engine::Create(o)).value();
  auto running =
      std::move(engine->Start(BestClickPerPage("best", log.path(), 0).ToList("best", 1 << 20)))
          .value();
  EXPECT_TRUE(running->restored());
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  running->FlushWindows();
  auto got = ScanRows<Visit>(ns, "best");
  auto order = [](const Visit& a, const Visit& b) {
    return std::tie(a.page, a.category, a.user, a.amount) <
           std::tie(b.page, b.category, b.user, b.amount);
  };
  std::sort(got.begin(), got.end(), order);
  std::sort(want.begin(), want.end(), order);
  ASSERT_GT(want.size(), 1000u);
  EXPECT_EQ(got, want);
  running.reset();
  engine.reset();
  std::system(("rm -rf " + dir).c_str());
}

TEST(LateLogTest, ShouldAppendEveryLateRecordToTheLateLog) {
  constexpr std::int64_t kSize = 1000, kSlide = 500, kBound = 200;
  TempLog log;
  TempNamespace ns;
  const std::string late_path = log.path() + ".late";
  const auto clicks = MakeClicks(20000, 27, 1500);
  for (const Click& c : clicks) log.Append(c, c.time);
  std::vector<Click> ref;
  std::int64_t max_time = std::numeric_limits<std::int64_t>::min();
  const operators::HoppingWindows windows(kSize, kSlide);
  for (const Click& c : clicks) {
    const std::int64_t watermark =
        max_time == std::numeric_limits<std::int64_t>::min() ? max_time : max_time - kBound;
    if (windows.LastEnd(c.time) <= watermark) ref.push_back(c);
    max_time = std::max(max_time, c.time);
  }
  ASSERT_GT(ref.size(), 100u);
  auto engine = MakeEngine(ns, 1);
  auto job = std::move(engine->Start(From<Click>("hopping", log.path())
                                         .EventTime([](const Click& c) { return c.time; }, kBound)
                                         .KeyBy([](const Click& c) { return c.page; })
                                         .Window(windows)
                                         .LateTo(late_path)
                                         .Aggregate(operators::Count<Click>{})
                                         .ToView("hopping", {.windows_per_key = 16})))
                 .value();
  ASSERT_TRUE(job->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(job->Stats().late, ref.size());
  job->Stop();
  auto late_log = std::move(memlog::Log::Open(late_path)).value();
  auto reader = std::move(late_log->NewReader(memlog::StartAt::Earliest())).value();
  std::vector<Click> got;
  memlog::RecordBatch batch;
  while (reader->Poll(&batch) == memlog::PollStatus::kOk) {
    for (const memlog::Record& r : batch) {
      Click c;
      ASSERT_EQ(r.type, RecordType<Click>::kLogType);
      ASSERT_EQ(r.payload.size(), sizeof c);
      std::memcpy(&c, r.payload.data(), sizeof c);
      EXPECT_EQ(r.timestamp_ns, c.time);
      got.push_back(c);
    }
  }
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(std::tie(got[i].user, got[i].page, got[i].amount, got[i].time),
              std::tie(ref[i].user, ref[i].page, ref[i].amount, ref[i].time))
        << i;
  }
  reader.reset();
  late_log.reset();
  RemoveLog(late_path);
}

}  // namespace
}  // namespace kappa::engine::testing
