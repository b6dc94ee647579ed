// REQUIRES: conditions are checked in debug and sanitizer builds (base/check.h).
#include "base/check.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "operators/window.h"
#include "serving/schema.h"

namespace kappa::base {
namespace {

#if defined(KAPPA_DCHECKS) || !defined(NDEBUG)
constexpr bool kChecked = true;
#else
constexpr bool kChecked = false;
#endif

TEST(CheckDeathTest, ShouldAbortOnABrokenRequirementInCheckedBuilds) {
  if (!kChecked) GTEST_SKIP() << "a release build: REQUIRES: conditions are not checked";
  EXPECT_DEATH({ KAPPA_DCHECK(1 + 1 == 3, "arithmetic"); },
               "check failed: 1 \\+ 1 == 3: arithmetic");
  EXPECT_DEATH(
      {
        Result<int> r = Status::Ok();
        (void)r;
      },
      "made of an ok Status");
  EXPECT_DEATH(
      {
        operators::TumblingWindows w(0);
        (void)w;
      },
      "the size must be > 0");
  EXPECT_DEATH(
      {
        operators::HoppingWindows w(10, 20);
        (void)w;
      },
      "the slide must be in");
  EXPECT_DEATH(
      {
        const serving::Schema s =
            std::move(serving::Schema::Make({serving::Field::String("name", 8)})).value();
        std::byte v[8] = {};
        (void)s.GetI64(v, 0);
      },
      "a field read as another type");
}

TEST(CheckTest, ShouldCostNothingWhenTheRequirementHolds) {
  KAPPA_DCHECK(1 + 1 == 2, "arithmetic");
  const Result<int> r = 7;
  EXPECT_EQ(*r, 7);
}

}  // namespace
}  // namespace kappa::base
