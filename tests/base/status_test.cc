#include "base/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "memlog/status.h"
#include "serving/status.h"

namespace kappa::base {
namespace {

TEST(StatusTest, ShouldCarryItsCodeAndMessageAcrossModules) {
  // memlog's and serving's statuses are the same type: nothing is converted, nothing lost.
  const memlog::Status from_memlog =
      memlog::Status::Error(memlog::StatusCode::kCorrupt, "log: bad frame");
  const serving::Status in_serving = from_memlog;
  EXPECT_EQ(in_serving.code(), serving::StatusCode::kCorrupt);
  const Status prefixed = in_serving.WithPrefix("job q5: ");
  EXPECT_EQ(prefixed.code(), StatusCode::kCorrupt);
  EXPECT_EQ(prefixed.message(), "job q5: log: bad frame");
  EXPECT_TRUE(Status::Ok().WithPrefix("x").ok());
  EXPECT_STREQ(StatusCodeName(StatusCode::kBusy), "busy");
}

TEST(StatusTest, ShouldHoldAValueOrAnError) {
  Result<std::unique_ptr<int>> value = std::make_unique<int>(7);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(**value, 7);
  EXPECT_TRUE(value.status().ok());
  const std::unique_ptr<int> taken = std::move(value).value();
  EXPECT_EQ(*taken, 7);
  const Result<int> error = Status::Error(StatusCode::kNotFound, "nothing here");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), StatusCode::kNotFound);
}

TEST(StatusDeathTest, ShouldAbortWithTheMessageWhenTheValueOfAnErrorIsTaken) {
  const Result<int> error =
      Status::Error(StatusCode::kIoError, "disk.log: No space left on device");
  EXPECT_DEATH({ (void)error.value(); }, "I/O error.*disk.log: No space left on device");
}

}  // namespace
}  // namespace kappa::base
