// Every record at its window's highest score: ties, a higher record dropping the tied ones,
// records at a window's end instant, lateness, the order of emission, and a restored state.
#include "operators/arg_max.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace kappa::operators {
namespace {

struct Event {
  std::int64_t id;
  std::int64_t score;
};
struct ScoreOf {
  std::int64_t operator()(const Event& e) const { return e.score; }
};
using ArgMax = WindowArgMax<std::uint64_t, Event, TumblingWindows, ScoreOf>;
// (key, window start, event id, offset) of each emitted record.
using Emitted = std::vector<std::tuple<std::uint64_t, std::int64_t, std::int64_t, std::uint64_t>>;

Emitted Advance(ArgMax& a, std::int64_t watermark) {
  Emitted out;
  a.AdvanceTo(watermark, [&](std::uint64_t k, const Window& w, const Event& e, std::uint64_t off) {
    EXPECT_EQ(w.end, w.start + 10);
    out.emplace_back(k, w.start, e.id, off);
  });
  return out;
}

TEST(ArgMaxTest, ShouldEmitEveryRecordTiedAtTheWindowsHighestInArrivalOrder) {
  ArgMax a(ScoreOf{}, TumblingWindows(10));
  const std::int64_t wm = kNoWatermark;
  EXPECT_TRUE(a.Add(1, {1, 5}, 0, 100, wm));
  EXPECT_TRUE(a.Add(1, {2, 7}, 1, 101, wm));    // higher: drops 1
  EXPECT_TRUE(a.Add(1, {3, 7}, 2, 102, wm));    // ties
  EXPECT_TRUE(a.Add(1, {4, 6}, 3, 103, wm));    // lower: ignored
  EXPECT_TRUE(a.Add(1, {5, 7}, 9, 104, wm));    // ties, at the window's last instant
  EXPECT_TRUE(a.Add(1, {6, 99}, 10, 105, wm));  // the next window's
  EXPECT_TRUE(a.Add(0, {7, -3}, 4, 106, wm));   // another key: its own highest, negative
  EXPECT_EQ(Advance(a, 9), Emitted{});          // the window ends at 10
  EXPECT_EQ(Advance(a, 10),
            (Emitted{{0, 0, 7, 106}, {1, 0, 2, 101}, {1, 0, 3, 102}, {1, 0, 5, 104}}));
  EXPECT_EQ(a.open_windows(), 1u);
  EXPECT_EQ(Advance(a, std::numeric_limits<std::int64_t>::max()), (Emitted{{1, 10, 6, 105}}));
  EXPECT_EQ(a.open_windows(), 0u);
}

TEST(ArgMaxTest, ShouldEmitKeysInTheOrderOfTheirValuesWhateverTheirArrival) {
  ArgMax a(ScoreOf{}, TumblingWindows(10));
  for (std::uint64_t k : {9u, 3u, 7u, 1u}) a.Add(k, {static_cast<std::int64_t>(k), 1}, 0, k, 0);
  EXPECT_EQ(Advance(a, 10), (Emitted{{1, 0, 1, 1}, {3, 0, 3, 3}, {7, 0, 7, 7}, {9, 0, 9, 9}}));
}

TEST(ArgMaxTest, ShouldCountRecordsForClosedWindowsAsLate) {
  ArgMax a(ScoreOf{}, TumblingWindows(10));
  EXPECT_TRUE(a.Add(1, {1, 5}, 12, 0, 0));
  EXPECT_FALSE(a.Add(1, {2, 50}, 9, 1, 10));  // [0, 10) closed at watermark 10
  EXPECT_TRUE(a.Add(1, {3, 5}, 10, 2, 10));
  EXPECT_EQ(a.late_records(), 1u);
  EXPECT_EQ(Advance(a, 20), (Emitted{{1, 10, 1, 0}, {1, 10, 3, 2}}));
}

TEST(ArgMaxTest, ShouldEmitLateTiesAndLateHigherRecordsWithinTheAllowedLateness) {
  ArgMax a(ScoreOf{}, TumblingWindows(10), /*allowed_lateness=*/5);
  a.Add(1, {1, 5}, 3, 0, 0);
  EXPECT_EQ(Advance(a, 10), (Emitted{{1, 0, 1, 0}}));
  EXPECT_TRUE(a.Add(1, {2, 4}, 4, 1, 10));  // lower than what was emitted: nothing
  EXPECT_TRUE(a.Add(1, {3, 5}, 5, 2, 11));  // ties: comes now
  EXPECT_EQ(Advance(a, 12), (Emitted{{1, 0, 3, 2}}));
  EXPECT_TRUE(a.Add(1, {4, 8}, 6, 3, 12));  // higher: comes too (the list keeps both)
  EXPECT_EQ(Advance(a, 13), (Emitted{{1, 0, 4, 3}}));
  EXPECT_FALSE(a.Add(1, {5, 8}, 6, 4, 15));  // past the lateness
  EXPECT_EQ(Advance(a, 15), Emitted{});
  EXPECT_EQ(a.open_windows(), 0u);
}

TEST(ArgMaxTest, ShouldTieRecordsAtTheWindowsEndInstantWithoutSettingItsHighest) {
  ArgMax a(ScoreOf{}, TumblingWindows(10), 0, /*include_end=*/true);
  a.Add(1, {1, 5}, 2, 0, 0);
  a.Add(1, {2, 9}, 10, 1, 2);   // the end of [0, 10): above its highest, no match; [10, 20)'s
  a.Add(1, {3, 5}, 10, 2, 10);  // ties [0, 10)'s highest, and is below [10, 20)'s
  EXPECT_EQ(Advance(a, 10), Emitted{});  // [0, 10] is due once the watermark passes 10
  EXPECT_EQ(Advance(a, 11), (Emitted{{1, 0, 1, 0}, {1, 0, 3, 2}}));
  // A window whose only records came at its end has no highest: nothing. A record at the end
  // that came before the window's highest, and ties it, comes.
  a.Add(2, {4, 1}, 30, 3, 11);
  a.Add(1, {5, 6}, 20, 4, 11);  // the end of [10, 20): 6, before a 6 inside it
  a.Add(1, {6, 6}, 19, 5, 11);
  a.Add(1, {7, 9}, 18, 6, 11);  // 9 ties bid 2 (at 10, inside [10, 20))
  EXPECT_EQ(Advance(a, 21), (Emitted{{1, 10, 2, 1}, {1, 10, 7, 6}}));
  EXPECT_EQ(Advance(a, 41), (Emitted{{1, 20, 5, 4}, {2, 30, 4, 3}}));
}

TEST(ArgMaxTest, ShouldAssignARecordToEachOfItsHoppingWindows) {
  WindowArgMax<std::uint64_t, Event, HoppingWindows, ScoreOf> a(ScoreOf{}, HoppingWindows(10, 5));
  a.Add(1, {1, 5}, 7, 0, 0);   // [0, 10) and [5, 15)
  a.Add(1, {2, 3}, 12, 1, 0);  // [5, 15) and [10, 20)
  Emitted out;
  a.AdvanceTo(20, [&](std::uint64_t k, const Window& w, const Event& e, std::uint64_t off) {
    out.emplace_back(k, w.start, e.id, off);
  });
  EXPECT_EQ(out, (Emitted{{1, 0, 1, 0}, {1, 5, 1, 0}, {1, 10, 2, 1}}));
}

TEST(ArgMaxTest, ShouldEmitFromARestoredStateWhatTheOriginalWould) {
  ArgMax a(ScoreOf{}, TumblingWindows(10), 3, true);
  a.Add(1, {1, 5}, 2, 0, 0);
  a.Add(1, {2, 5}, 4, 1, 0);
  a.Add(2, {3, 7}, 12, 2, 0);
  a.Add(3, {4, 1}, 10, 3, 0);  // a candidate of [0, 10] only (and [10, 20)'s)
  EXPECT_FALSE(a.Add(1, {9, 9}, -20, 9, 0));
  std::string bytes;
  a.Snapshot(&bytes);
  ArgMax b(ScoreOf{}, TumblingWindows(10), 3, true);
  ASSERT_TRUE(b.Restore(bytes));
  EXPECT_EQ(b.late_records(), 1u);
  EXPECT_EQ(b.open_windows(), a.open_windows());
  const std::int64_t end = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(Advance(b, end), Advance(a, end));
  // What Snapshot did not write is refused.
  ArgMax c(ScoreOf{}, TumblingWindows(10));
  EXPECT_FALSE(c.Restore(std::string_view(bytes).substr(0, bytes.size() - 1)));
  EXPECT_FALSE(c.Restore(bytes + "x"));
}

}  // namespace
}  // namespace kappa::operators
