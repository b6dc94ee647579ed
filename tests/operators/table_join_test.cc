// TableJoin: a left record meets the row its key has at the left record's place in the stream.
#include "operators/table_join.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace kappa::operators {
namespace {

struct Row {
  std::int64_t version;
};

TEST(TableJoinTest, ShouldMeetTheLatestRowAsOfTheLeftRecordsPlace) {
  TableJoin<std::int64_t, Row> table(4);
  EXPECT_EQ(table.Find(1), nullptr);  // nothing came yet
  table.Update(1, Row{10});
  table.Update(2, Row{20});
  ASSERT_NE(table.Find(1), nullptr);
  EXPECT_EQ(table.Find(1)->version, 10);
  table.Update(1, Row{11});  // replaces the row of 1
  EXPECT_EQ(table.Find(1)->version, 11);
  EXPECT_EQ(table.Find(2)->version, 20);
  EXPECT_EQ(table.Find(3), nullptr);
  EXPECT_EQ(table.size(), 2u);
}

// Random updates and lookups over more keys than the table expected (it grows): each lookup
// gives what a std::map of the updates so far gives; a table rebuilt from ForEach gives the same.
TEST(TableJoinTest, ShouldAgreeWithAMapAndComeBackWholeFromWhatItHolds) {
  std::mt19937_64 rng(11);
  TableJoin<std::int64_t, Row> table(4);
  std::map<std::int64_t, std::int64_t> want;
  for (std::int64_t i = 0; i < 20000; ++i) {
    const auto key = static_cast<std::int64_t>(rng() % 3000) - 1500;
    if (rng() % 3 == 0) {
      table.Update(key, Row{i});
      want[key] = i;
      continue;
    }
    const Row* got = table.Find(key);
    auto it = want.find(key);
    ASSERT_EQ(got != nullptr, it != want.end()) << "key " << key;
    if (got) {
      ASSERT_EQ(got->version, it->second) << "key " << key;
    }
  }
  EXPECT_EQ(table.size(), want.size());
  TableJoin<std::int64_t, Row> copy(4);
  table.ForEach([&](std::int64_t k, const Row& r) { copy.Update(k, r); });
  EXPECT_EQ(copy.size(), want.size());
  for (const auto& [k, v] : want) {
    ASSERT_NE(copy.Find(k), nullptr);
    EXPECT_EQ(copy.Find(k)->version, v);
  }
}

}  // namespace
}  // namespace kappa::operators
