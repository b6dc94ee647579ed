#include "ingest/json_lines_encoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/ingest/ingest_test_util.h"

namespace kappa::ingest {
namespace {

using testing::Decode;
using testing::Padded;

class JsonLinesEncoderTest : public ::testing::Test {
 protected:
  // Encodes `line` into out_; the error, or "" on success.
  std::string Encode(std::string_view line) {
    const Padded padded(line);
    std::string error;
    const std::size_t before = out_.size();
    if (encoder_.Encode(padded.view(), &out_, &error)) return "";
    EXPECT_EQ(out_.size(), before) << "a failed line leaves nothing behind";
    return error.empty() ? "(no message)" : error;
  }
  testing::Click Last() {
    const std::size_t size = 40 + last_tail_;
    return Decode(type_, std::string_view(out_).substr(out_.size() - size));
  }

  const engine::CatalogEntry type_ = testing::ClickType();
  JsonLinesEncoder encoder_{type_};
  std::string out_;
  std::size_t last_tail_ = 0;
};

TEST_F(JsonLinesEncoderTest, ShouldEncodeMembersInAnyOrderAndIgnoreOthers) {
  ASSERT_EQ(Encode(R"({"offset":3,"kind":"click","n":9,"ms":0.25,"page":"h\u00e9\"","user":-4,)"
                   R"("extra":[1,{"a":2}]})"),
            "");
  const testing::Click c = Last();
  EXPECT_EQ(c.user, -4);
  EXPECT_EQ(c.page, "h\xc3\xa9\"");
  EXPECT_EQ(c.ms, 0.25);
  EXPECT_EQ(c.n, 9u);
  EXPECT_EQ(out_.size(), 40u);
}

TEST_F(JsonLinesEncoderTest, ShouldTakeTheTailAndNullAsNaN) {
  ASSERT_EQ(Encode(R"({"user":1,"page":"","ms":null,"n":0,"note":"the tail"})"), "");
  last_tail_ = 8;
  const testing::Click c = Last();
  EXPECT_TRUE(std::isnan(c.ms));
  EXPECT_EQ(c.note, "the tail");
  ASSERT_EQ(Encode(R"({"user":1,"page":"","ms":3,"n":0})"), "");  // an integer for an f64
  last_tail_ = 0;
  EXPECT_EQ(Last().ms, 3.0);
}

TEST_F(JsonLinesEncoderTest, ShouldTakeATailInBase64OrHex) {
  ASSERT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0,"note_base64":"/wBh"})"), "");
  last_tail_ = 3;
  EXPECT_EQ(Last().note, std::string("\xff\0a", 3));
  ASSERT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0,"note_hex":"ff0062"})"), "");
  EXPECT_EQ(Last().note, std::string("\xff\0b", 3));
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0,"note_base64":"/wB"})"),
            "'note_base64' is not base64");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0,"note":"a","note_hex":"61"})"),
            "field 'note' appears twice");
}

TEST_F(JsonLinesEncoderTest, ShouldSayWhatDoesNotFitAndWhere) {
  EXPECT_EQ(Encode(R"({"user":"1","page":"","ms":1,"n":0})"),
            "field 'user' holds an integer (i64), not a string");
  EXPECT_EQ(Encode(R"({"user":1.0,"page":"","ms":1,"n":0})"),
            "field 'user' holds an integer (i64), not 1.0");
  EXPECT_EQ(Encode(R"({"user":9223372036854775808,"page":"","ms":1,"n":0})"),
            "field 'user' holds an integer (i64), not 9223372036854775808");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":-1})"),
            "field 'n' holds a non-negative integer (u64), not -1");
  EXPECT_EQ(Encode(R"({"user":1,"page":7,"ms":1,"n":0})"),
            "field 'page' holds a string, not a number");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":true,"n":0})"),
            "field 'ms' holds a number (f64), not a boolean");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0,"note":5})"),
            "field 'note' holds text (the tail), not a number");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","n":0})"), "field 'ms' is missing");
  EXPECT_EQ(Encode(R"({"user":1,"user":2,"page":"","ms":1,"n":0})"), "field 'user' appears twice");
  EXPECT_EQ(Encode(R"([1,2])"), "not a JSON object but an array");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0)").substr(0, 9), "not JSON:");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0} {})").substr(0, 9), "not JSON:");
  EXPECT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0x})"),
            "field 'n' holds a non-negative integer (u64), not 0x");
  EXPECT_EQ(Encode(R"({"user":1,"page":"\x","ms":1,"n":0})").substr(0, 9), "not JSON:");
  EXPECT_EQ(out_.size(), 0u);
}

// The values of members that name no field are skipped by their brackets, not parsed.
TEST_F(JsonLinesEncoderTest, ShouldSkipMembersThatNameNoFieldWithoutParsingThem) {
  ASSERT_EQ(Encode(R"({"user":1,"page":"","ms":1,"n":0,"x":[1,}})"), "");
  EXPECT_EQ(Last().user, 1);
}

TEST_F(JsonLinesEncoderTest, ShouldMatchEscapedKeys) {
  ASSERT_EQ(Encode(R"({"user":5,"page":"p","ms":1,"n":0})"), "");
  EXPECT_EQ(Last().user, 5);
  EXPECT_EQ(Last().page, "p");
}

TEST_F(JsonLinesEncoderTest, ShouldEncodeLineAfterLineIntoOneBuffer) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(Encode(R"({"user":)" + std::to_string(i) + R"(,"page":"p","ms":1,"n":2})"), "");
  }
  ASSERT_EQ(out_.size(), 40u * 1000);
  EXPECT_EQ(Decode(type_, std::string_view(out_).substr(40 * 999, 40)).user, 999);
}

}  // namespace
}  // namespace kappa::ingest
