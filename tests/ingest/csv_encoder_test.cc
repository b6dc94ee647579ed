#include "ingest/csv_encoder.h"

#include <gtest/gtest.h>

#include "tests/ingest/ingest_test_util.h"

namespace kappa::ingest {
namespace {

using testing::Decode;
using Outcome = CsvEncoder::Outcome;

TEST(CsvEncoderTest, ShouldSplitRecordsAtLineEndsOutsideQuotes) {
  std::size_t lines = 0;
  EXPECT_EQ(CsvEncoder::RecordLength("a,b\nc\n", false, &lines), 4u);
  EXPECT_EQ(lines, 1u);
  EXPECT_EQ(CsvEncoder::RecordLength("\"a\nb\",\"\"\"\n\"\nc\n", false, &lines), 12u);
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(CsvEncoder::RecordLength("\"open\nstill", false, &lines), 0u);  // wait for more
  EXPECT_EQ(CsvEncoder::RecordLength("last", false, &lines), 0u);
  EXPECT_EQ(CsvEncoder::RecordLength("last", true, &lines), 4u);
  EXPECT_EQ(lines, 0u);
}

TEST(CsvEncoderTest, ShouldMapColumnsByTheHeaderAndUnquoteCells) {
  const engine::CatalogEntry type = testing::ClickType();
  CsvEncoder csv(type, {});
  std::string out;
  std::string error;
  ASSERT_EQ(csv.Encode("n,other,page,user,ms,note\r\n", &out, &error), Outcome::kHeader) << error;
  ASSERT_EQ(csv.Encode("3,x,\"a,\"\"b\"\"\n\",-1,1e3,\"\"\n", &out, &error), Outcome::kRecord)
      << error;
  const testing::Click c = Decode(type, out);
  EXPECT_EQ(c.user, -1);
  EXPECT_EQ(c.page, "a,\"b\"\n");
  EXPECT_EQ(c.ms, 1000.0);
  EXPECT_EQ(c.n, 3u);
  EXPECT_EQ(out.size(), 40u);  // an empty tail
}

TEST(CsvEncoderTest, ShouldTakeTheFieldsInOrderWithoutAHeader) {
  const engine::CatalogEntry type = testing::ClickType();
  CsvEncoder csv(type, {.delimiter = '\t', .header = false});
  std::string out;
  std::string error;
  ASSERT_EQ(csv.Encode("5\tp,q\t0.5\t6\ta tail", &out, &error), Outcome::kRecord) << error;
  const testing::Click c = Decode(type, out);
  EXPECT_EQ(c.user, 5);
  EXPECT_EQ(c.page, "p,q");
  EXPECT_EQ(c.note, "a tail");
  EXPECT_EQ(csv.Encode("5\tp\t0.5\t6\ttail\textra", &out, &error), Outcome::kBad);
  EXPECT_EQ(error, "6 cells where click has 5 columns");
}

TEST(CsvEncoderTest, ShouldRejectBadHeadersAndCells) {
  const engine::CatalogEntry type = testing::ClickType();
  std::string out;
  std::string error;
  {
    CsvEncoder csv(type, {});
    EXPECT_EQ(csv.Encode("user,page,ms", &out, &error), Outcome::kBad);
    EXPECT_EQ(error, "no column 'n' (a field of click)");
    EXPECT_FALSE(csv.has_columns());
  }
  {
    CsvEncoder csv(type, {});
    EXPECT_EQ(csv.Encode("user,page,ms,n,user", &out, &error), Outcome::kBad);
    EXPECT_EQ(error, "the header names 'user' twice");
  }
  CsvEncoder csv(type, {});
  ASSERT_EQ(csv.Encode("user,page,ms,n", &out, &error), Outcome::kHeader);
  EXPECT_EQ(csv.Encode("1,\"a\"b,1,1", &out, &error), Outcome::kBad);
  EXPECT_EQ(error, "cell 2: text after the closing quote (a quote inside a cell is written \"\")");
  EXPECT_EQ(csv.Encode("1,a\"b,1,1", &out, &error), Outcome::kBad);
  EXPECT_EQ(error,
            "cell 2: a quote inside an unquoted cell (quote the cell and write the quote as \"\")");
  EXPECT_EQ(csv.Encode("1,\"a,1,1", &out, &error), Outcome::kBad);
  EXPECT_EQ(error, "cell 2: a quote is not closed");
  EXPECT_EQ(csv.Encode("x,a,1,1", &out, &error), Outcome::kBad);
  EXPECT_EQ(error, "field 'user' holds an integer (i64), not \"x\"");
  EXPECT_EQ(csv.Encode("1,a,1", &out, &error), Outcome::kBad);
  EXPECT_EQ(error, "field 'n' is missing");
  EXPECT_EQ(csv.Encode("1,a,1,", &out, &error), Outcome::kBad);  // an empty last cell
  EXPECT_EQ(error, "field 'n' holds a non-negative integer (u64), not \"\"");
  EXPECT_EQ(out.size(), 0u);
  ASSERT_EQ(csv.Encode("1,,1,1", &out, &error), Outcome::kRecord) << error;  // an empty string
  EXPECT_EQ(Decode(type, out).page, "");
}

}  // namespace
}  // namespace kappa::ingest
