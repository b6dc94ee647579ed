// The C ABI (serving/kappa_view.h): checks written in C over views written by C++.
#include "serving/kappa_view.h"

#include <gtest/gtest.h>

#include "tests/serving/fixture_views.h"
#include "tests/serving/test_util.h"

extern "C" int kappa_view_c_checks(const char* ns, char* error, size_t error_size);

namespace kappa::serving {
namespace {

TEST(KappaViewCTest, ShouldReadEveryKindThroughTheCAbi) {
  testing::TempNamespace t;
  auto ns = t.Open();
  std::string error;
  ASSERT_TRUE(testing::WriteFixtureViews(*ns, &error)) << error;
  char message[512] = {};
  EXPECT_EQ(kappa_view_c_checks(t.path().c_str(), message, sizeof message), 0) << message;
}

TEST(KappaViewCTest, ShouldReturnGoneAfterADropAndFollowFlips) {
  testing::TempNamespace t;
  auto ns = t.Open();
  std::string error;
  ASSERT_TRUE(testing::WriteFixtureViews(*ns, &error)) << error;
  ASSERT_TRUE(testing::AddSecondVersion(*ns, &error)) << error;
  kv_view* v = nullptr;
  ASSERT_EQ(kv_open(t.path().c_str(), "counts", &v), KV_OK);
  unsigned char value[64];
  std::uint64_t offset;
  ASSERT_EQ(kv_get_u64(v, 4, value, sizeof value, &offset), KV_OK);
  EXPECT_EQ(offset, 1004u);
  ASSERT_TRUE(ns->Flip("counts", 2).ok());
  ASSERT_EQ(kv_get_u64(v, 4, value, sizeof value, &offset), KV_OK);
  EXPECT_EQ(offset, 2004u);
  kv_info info;
  ASSERT_EQ(kv_get_info(v, &info), KV_OK);
  EXPECT_EQ(info.version, 2u);
  EXPECT_EQ(info.alias_epoch, 2u);
  ASSERT_TRUE(ns->Drop("counts").ok());
  EXPECT_EQ(kv_get_u64(v, 4, value, sizeof value, &offset), KV_GONE);
  EXPECT_NE(std::string(kv_last_error()).find("gone"), std::string::npos) << kv_last_error();
  EXPECT_EQ(kv_get_info(v, &info), KV_GONE);
  kv_close(v);
}

}  // namespace
}  // namespace kappa::serving
