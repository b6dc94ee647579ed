#include "ingest/record_builder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/ingest/ingest_test_util.h"

namespace kappa::ingest {
namespace {

using testing::ClickType;
using testing::Decode;

TEST(RecordBuilderTest, ShouldLayOutEveryFieldAndTheTail) {
  const engine::CatalogEntry type = ClickType();
  RecordBuilder b(type);
  std::string out = "before";
  std::string error;
  b.Begin(&out);
  ASSERT_TRUE(b.SetI64(0, -5, &error));
  ASSERT_TRUE(b.SetString(1, "home", &error));
  ASSERT_TRUE(b.SetF64(2, 2.5, &error));
  ASSERT_TRUE(b.SetU64(3, 18446744073709551615u, &error));
  ASSERT_TRUE(b.SetTail("a note", &error));
  ASSERT_TRUE(b.Finish(&error)) << error;
  ASSERT_EQ(out.substr(0, 6), "before");
  ASSERT_EQ(out.size(), 6 + 40 + 6u);
  const testing::Click c = Decode(type, std::string_view(out).substr(6));
  EXPECT_EQ(c.user, -5);
  EXPECT_EQ(c.page, "home");
  EXPECT_EQ(c.ms, 2.5);
  EXPECT_EQ(c.n, 18446744073709551615u);
  EXPECT_EQ(c.note, "a note");
}

TEST(RecordBuilderTest, ShouldParseEachFieldFromText) {
  const engine::CatalogEntry type = ClickType();
  RecordBuilder b(type);
  std::string out;
  std::string error;
  b.Begin(&out);
  ASSERT_TRUE(b.SetText(0, "-9223372036854775808", &error)) << error;
  ASSERT_TRUE(b.SetText(1, "a,b", &error)) << error;
  ASSERT_TRUE(b.SetText(2, "-inf", &error)) << error;
  ASSERT_TRUE(b.SetText(3, "7", &error)) << error;
  ASSERT_TRUE(b.Finish(&error)) << error;  // the tail is optional
  const testing::Click c = Decode(type, out);
  EXPECT_EQ(c.user, INT64_MIN);
  EXPECT_EQ(c.page, "a,b");
  EXPECT_TRUE(std::isinf(c.ms) && c.ms < 0);
  EXPECT_EQ(c.n, 7u);
  EXPECT_EQ(c.note, "");
}

TEST(RecordBuilderTest, ShouldNameTheFieldAndTheValueThatDoNotFit) {
  const engine::CatalogEntry type = ClickType();
  RecordBuilder b(type);
  std::string out;
  std::string error;
  b.Begin(&out);
  EXPECT_FALSE(b.SetText(0, "12.5", &error));
  EXPECT_EQ(error, "field 'user' holds an integer (i64), not \"12.5\"");
  EXPECT_FALSE(b.SetText(0, "9223372036854775808", &error));  // one past the largest
  EXPECT_FALSE(b.SetText(3, "-1", &error));
  EXPECT_EQ(error, "field 'n' holds a non-negative integer (u64), not \"-1\"");
  EXPECT_FALSE(b.SetText(2, "", &error));
  EXPECT_EQ(error, "field 'ms' holds a number (f64), not \"\"");
  EXPECT_FALSE(b.SetText(1, "seventeen bytes!!", &error));
  EXPECT_EQ(error, "field 'page' holds at most 16 bytes, not 17 (\"seventeen bytes!!\")");
  EXPECT_FALSE(b.SetString(1, std::string_view("a\0b", 3), &error));
  EXPECT_EQ(error, "field 'page' holds text without NUL bytes, not \"a\\x00b\"");
  ASSERT_TRUE(b.SetText(1, "sixteen bytes!!!", &error)) << error;
  EXPECT_FALSE(b.SetText(1, "again", &error));
  EXPECT_EQ(error, "field 'page' appears twice");
}

TEST(RecordBuilderTest, ShouldRemoveARecordWithAMissingField) {
  const engine::CatalogEntry type = ClickType();
  RecordBuilder b(type);
  std::string out = "kept";
  std::string error;
  b.Begin(&out);
  ASSERT_TRUE(b.SetI64(0, 1, &error));
  ASSERT_TRUE(b.SetU64(3, 1, &error));
  EXPECT_FALSE(b.Finish(&error));
  EXPECT_EQ(error, "field 'page' is missing");
  EXPECT_EQ(out, "kept");
  b.Begin(&out);
  b.Cancel();
  EXPECT_EQ(out, "kept");
}

TEST(RecordBuilderTest, ShouldFindFieldsAndTheTailByName) {
  const engine::CatalogEntry type = ClickType();
  const RecordBuilder b(type);
  EXPECT_EQ(b.Find("user"), 0);
  EXPECT_EQ(b.Find("n"), 3);
  EXPECT_EQ(b.Find("note"), 4);
  EXPECT_EQ(b.Find("kind"), -1);
  EXPECT_EQ(b.Name(4), "note");
}

}  // namespace
}  // namespace kappa::ingest
