// "kappa log append" (text lines, JSON lines, CSV, raw records) and "kappa log schema", run as
// the built binary.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/temp_dir.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools {
namespace {

using testing::Contains;
using testing::ExpectOneErrorLine;
using testing::KappaOptions;
using testing::KappaProcess;
using testing::Lines;
using testing::RunResult;

RunResult Kappa(const std::vector<std::string>& args, const std::string& input = "") {
  return KappaProcess(args, KappaOptions{.input = input}).Finish();
}

// A JSON line as `kappa log dump --format jsonl` prints it, without the members that say where
// and when the record was appended ("offset", "type", "timestamp_ns").
std::string WithoutPlace(const std::string& line) {
  const std::size_t kind = line.find("\"kind\":");
  return kind == std::string::npos ? "<no kind in: " + line + ">" : line.substr(kind);
}

class LogAppendCliTest : public ::testing::Test {
 protected:
  // A new 4 MiB log in the test's directory with the click type; its path.
  std::string ClickLog(const std::string& name = "log") {
    const std::string path = dir_ / name;
    const RunResult created = Kappa({"log", "create", path, "--capacity", "4M"});
    EXPECT_EQ(created.status, 0) << created.err;
    const RunResult added = Kappa(
        {"log", "schema", path, "add", "click", "user:i64", "page:string16", "ms:f64", "n:u64"});
    EXPECT_EQ(added.status, 0) << added.err;
    return path;
  }
  std::vector<std::string> Dump(const std::string& path, const std::string& format = "text") {
    const RunResult dump = Kappa({"log", "dump", path, "--format", format});
    EXPECT_EQ(dump.status, 0) << dump.err;
    return Lines(dump.out);
  }

  kappa::testing::TempDir dir_{"/dev/shm"};
};

TEST_F(LogAppendCliTest, ShouldDeclareTypesAndShowTheCatalog) {
  const std::string path = dir_ / "log";
  ASSERT_EQ(Kappa({"log", "create", path, "--capacity", "1M"}).status, 0);
  RunResult shown = Kappa({"log", "schema", path});
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_TRUE(Contains(shown.out, "has no record types")) << shown.out;

  RunResult added = Kappa({"log", "schema", path, "add", "click", "user:i64", "page:string16"});
  ASSERT_EQ(added.status, 0) << added.err;
  EXPECT_EQ(added.out, "added type 1 click (24 bytes) to " + path + ".types\n");
  added = Kappa({"log", "schema", path, "add", "order", "--id", "40", "id:u64", "note:tail"});
  ASSERT_EQ(added.status, 0) << added.err;
  added = Kappa({"log", "schema", path, "add", "later", "x:f64"});  // after the highest, 40
  ASSERT_EQ(added.status, 0) << added.err;
  shown = Kappa({"log", "schema", path});
  EXPECT_EQ(shown.out,
            "1 click user:i64 page:string16\n40 order id:u64 note:tail\n41 later x:f64\n");

  // Again with the same fields: no change; with others: an error, and the catalog unchanged.
  added = Kappa({"log", "schema", path, "add", "click", "user:i64", "page:string16"});
  EXPECT_EQ(added.status, 0) << added.err;
  RunResult bad = Kappa({"log", "schema", path, "add", "click", "user:i64"});
  EXPECT_EQ(bad.status, 1);
  ExpectOneErrorLine(bad, "another schema for click");
  EXPECT_TRUE(Contains(bad.err, "already click, with other fields")) << bad.err;
  bad = Kappa({"log", "schema", path, "add", "tick", "price:i32"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_TRUE(Contains(bad.err, "field 'price:i32' has an unknown type")) << bad.err;
  bad = Kappa({"log", "schema", path, "add", "tick", "--id", "65280", "price:i64"});
  EXPECT_EQ(bad.status, 2) << bad.err;  // kappa's own types
  bad = Kappa({"log", "schema", path, "add", "tick"});
  EXPECT_EQ(bad.status, 2) << bad.err;
  bad = Kappa({"log", "schema", dir_ / "missing", "add", "tick", "a:i64"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(Kappa({"log", "schema", path}).out, shown.out);
}

// The reference generator's records, dumped as JSON lines and appended to another log through
// its catalog, come back field for field, with their tails.
TEST_F(LogAppendCliTest, ShouldReadBackWhatDumpWritesAsJsonLines) {
  const std::string events = dir_ / "events";
  const RunResult gen =
      Kappa({"gen", events, "--events", "3000", "--generator", "reference", "--capacity", "8M"});
  ASSERT_EQ(gen.status, 0) << gen.err;
  const std::vector<std::string> all = Dump(events, "jsonl");
  std::string bids;
  std::vector<std::string> expected;
  for (const std::string& line : all) {
    if (!Contains(line, "\"kind\":\"bid\"")) continue;
    bids += line + "\n";
    expected.push_back(WithoutPlace(line));
  }
  ASSERT_GT(expected.size(), 2000u);

  const std::string copy = dir_ / "copy";
  ASSERT_EQ(Kappa({"log", "create", copy, "--capacity", "8M"}).status, 0);
  // The same type declared from the command line, as gen's catalog has it.
  const RunResult added =
      Kappa({"log", "schema", copy, "add", "bid", "--id", "3", "auction:i64", "bidder:i64",
             "price:i64", "channel:string16", "date_time:i64", "extra:tail"});
  ASSERT_EQ(added.status, 0) << added.err;
  const RunResult appended =
      Kappa({"log", "append", copy, "--format", "jsonl", "--type", "bid"}, bids);
  ASSERT_EQ(appended.status, 0) << appended.err;
  EXPECT_EQ(appended.err, "appended " + std::to_string(expected.size()) + " records\n");
  std::vector<std::string> got;
  for (const std::string& line : Dump(copy, "jsonl")) got.push_back(WithoutPlace(line));
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << "record " << i;
  EXPECT_TRUE(Contains(got[0], "\"extra\":\"")) << got[0];
}

// Bytes that are not UTF-8 text come out of a dump in base64 and go back in unchanged.
TEST_F(LogAppendCliTest, ShouldReadBackBinaryTailsFromBase64AndHex) {
  std::vector<std::string> paths;
  for (const std::string name : {"from", "to_base64", "to_hex"}) {
    paths.push_back(dir_ / name);
    ASSERT_EQ(Kappa({"log", "create", paths.back(), "--capacity", "1M"}).status, 0);
    ASSERT_EQ(Kappa({"log", "schema", paths.back(), "add", "blob", "id:i64", "data:tail"}).status,
              0);
  }
  std::string record(8, '\0');
  record[0] = 42;
  record += std::string("\xff\0\n", 3);
  RunResult r =
      Kappa({"log", "append", paths[0], "--format", "raw", "--type", "blob", "--record-size", "11"},
            record);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> base64 = Dump(paths[0], "jsonl");
  ASSERT_EQ(base64.size(), 1u);
  EXPECT_TRUE(Contains(base64[0], R"("kind":"blob","id":42,"data_base64":"/wAK"})")) << base64[0];
  const RunResult hex = Kappa({"log", "dump", paths[0], "--format", "jsonl", "--bytes", "hex"});
  EXPECT_TRUE(Contains(hex.out, R"("data_hex":"ff000a")")) << hex.out;
  r = Kappa({"log", "append", paths[1], "--format", "jsonl", "--type", "blob"}, base64[0] + "\n");
  ASSERT_EQ(r.status, 0) << r.err;
  r = Kappa({"log", "append", paths[2], "--format", "jsonl", "--type", "blob"}, hex.out);
  ASSERT_EQ(r.status, 0) << r.err;
  for (int i = 1; i <= 2; ++i) {
    const std::vector<std::string> back = Dump(paths[i], "jsonl");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(WithoutPlace(back[0]), WithoutPlace(base64[0]));
  }
}

TEST_F(LogAppendCliTest, ShouldStopAtABadLineWithNothingAfterItAppended) {
  const std::string path = ClickLog();
  const std::string input = R"({"user":1,"page":"a","ms":1,"n":1})"
                            "\n\n"  // a blank line is skipped, but counted
                            R"({"user":2,"page":"b","ms":2,"n":2})"
                            "\n"
                            R"({"user":3,"page":"c","ms":"slow","n":3})"
                            "\n"
                            R"({"user":4,"page":"d","ms":4,"n":4})"
                            "\n";
  const RunResult r = Kappa({"log", "append", path, "--format", "jsonl", "--type", "click"}, input);
  EXPECT_EQ(r.status, 1);
  ExpectOneErrorLine(r, "a bad JSON line");
  EXPECT_TRUE(Contains(r.err, path + ": line 4: field 'ms' holds a number (f64), not a string (2 "
                                     "records appended before it)"))
      << r.err;
  const std::vector<std::string> lines = Dump(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(Contains(lines[1], "kind=click user=2 page=b ms=2.0 n=2")) << lines[1];
}

TEST_F(LogAppendCliTest, ShouldSkipAndCountLinesThatDoNotFitWhenAsked) {
  const std::string path = ClickLog();
  std::string input;
  for (int i = 0; i < 30; ++i) {
    input += i % 3 == 1 ? R"({"user":-1,"page":"x","ms":1,"n":-1})"
                        : R"({"user":)" + std::to_string(i) + R"(,"page":"p","ms":1,"n":1})";
    input += "\n";
  }
  const RunResult r = Kappa(
      {"log", "append", path, "--format", "jsonl", "--type", "click", "--on-error", "skip"}, input);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(
      Contains(r.err, "kappa: skipped " + path +
                          ": line 2: field 'n' holds a non-negative integer (u64), not -1\n"))
      << r.err;
  EXPECT_TRUE(Contains(r.err, ": line 29: ")) << r.err;  // the 10th of 10 reported
  EXPECT_TRUE(r.err.ends_with("appended 20 records; skipped 10 records that did not fit click\n"))
      << r.err;
  EXPECT_EQ(Dump(path).size(), 20u);
}

TEST_F(LogAppendCliTest, ShouldEncodeCsvAndNumberLinesAcrossQuotedLineEnds) {
  const std::string path = ClickLog();
  const std::string input =
      "n,page,user,ms,comment\r\n"
      "1,\"two\nlines\",10,0.5,\"said \"\"hi\"\"\"\r\n"
      "2,plain,20,1e-3,\n"
      "3,\"x\",thirty,1,\n";
  const RunResult r = Kappa({"log", "append", path, "--format", "csv", "--type", "click"}, input);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, ": line 5: field 'user' holds an integer (i64), not \"thirty\""))
      << r.err;
  const std::vector<std::string> lines = Dump(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(Contains(lines[0], "user=10 page=two\\x0alines ms=0.5 n=1")) << lines[0];
  EXPECT_TRUE(Contains(lines[1], "user=20 page=plain ms=0.001 n=2")) << lines[1];

  const RunResult headerless = Kappa({"log", "append", path, "--format", "csv", "--type", "click",
                                      "--no-header", "--delimiter", "tab"},
                                     "7\tseven\t7.5\t7\n");
  ASSERT_EQ(headerless.status, 0) << headerless.err;
  EXPECT_TRUE(Contains(Dump(path).back(), "user=7 page=seven ms=7.5 n=7"));

  const RunResult bad_header =
      Kappa({"log", "append", path, "--format", "csv", "--type", "click", "--on-error", "skip"},
            "user,page,ms\n1,a,1\n");
  EXPECT_EQ(bad_header.status, 1);  // no record can be read without its columns
  EXPECT_TRUE(Contains(bad_header.err, "line 1: the header: no column 'n' (a field of click)"))
      << bad_header.err;
}

// Fixed-size records are taken whole, whatever bytes they hold: a newline byte does not split
// one.
TEST_F(LogAppendCliTest, ShouldAppendRawRecordsHoldingNewlineBytes) {
  const std::string path = ClickLog();
  std::string input;
  for (int i = 0; i < 5; ++i) {
    std::string record(40, '\0');
    record[0] = '\n';  // user = 10 + 256 * i
    record[1] = static_cast<char>(i);
    record[8] = 'p';    // page
    record[32] = '\n';  // n = 10
    input += record;
  }
  RunResult r = Kappa({"log", "append", path, "--format", "raw", "--type", "click"}, input);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "appended 5 records\n");
  const std::vector<std::string> lines = Dump(path);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_TRUE(Contains(lines[4], "user=1034 page=p ms=0.0 n=10")) << lines[4];

  r = Kappa({"log", "append", path, "--format", "raw", "--record-size", "8"}, "12345678abc");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err,
                       "standard input ends with 3 bytes, not a whole record of 8 (1 "
                       "records appended before them)"))
      << r.err;
  r = Kappa({"log", "append", path, "--format", "raw", "--type", "click", "--record-size", "48"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "--record-size 48 does not fit click, whose records are 40 bytes"))
      << r.err;
}

TEST_F(LogAppendCliTest, ShouldRejectTypesTheFormatCannotEncode) {
  const std::string path = ClickLog();
  RunResult r = Kappa({"log", "append", path, "--format", "jsonl"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "--type is missing")) << r.err;
  r = Kappa({"log", "append", path, "--format", "csv", "--type", "9"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "--type 9 is not one of them")) << r.err;
  r = Kappa({"log", "append", path, "--format", "jsonl", "--type", "clack"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, path + ".types has no type 'clack' (it has: click)")) << r.err;
  r = Kappa({"log", "append", path, "--type", "click"}, "text\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(Contains(r.err, "its records are not text lines")) << r.err;
  r = Kappa({"log", "append", path, "--delimiter", ";"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(Dump(path).size(), 0u);
}

// Records are appended as they arrive, not when the input ends: a writer that pauses has what
// it wrote in the log.
TEST_F(LogAppendCliTest, ShouldAppendWhatAPausingWriterHasSent) {
  const std::string path = ClickLog();
  KappaProcess append({"log", "append", path, "--format", "jsonl", "--type", "click"},
                      KappaOptions{.hold_input_open = true});
  append.WriteInput(R"({"user":1,"page":"a","ms":1,"n":1})"
                    "\n"
                    R"({"user":2,"page":"b","ms":2,"n":2})"
                    "\n");
  std::size_t seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = Dump(path).size();
  }
  EXPECT_EQ(seen, 2u) << "records written and not yet appended while the input is open";
  append.WriteInput(R"({"user":3,"page":"c","ms":3,"n":3})", /*end=*/true);  // no newline
  const RunResult r = append.Finish();
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "appended 3 records\n");
}

}  // namespace
}  // namespace kappa::tools
