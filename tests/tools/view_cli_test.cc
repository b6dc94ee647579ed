// Runs the built `kappa` binary (KAPPA_BINARY) on views this test writes with the serving
// writers, and checks the output and exit statuses of "kappa view" exactly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serving/detail/mapped_file.h"  // fault injection: a slot left mid-update
#include "serving/detail/mapped_words.h"
#include "serving/detail/view_shape.h"
#include "serving/namespace.h"
#include "serving/schema.h"
#include "serving/shard.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools {
namespace {

using serving::Field;
using serving::KeyedTableOptions;
using serving::KeyedTableWriter;
using serving::KeyType;
using serving::Namespace;
using serving::ReadStatus;
using serving::ResultListOptions;
using serving::ResultListWriter;
using serving::RowView;
using serving::Schema;
using serving::TopKOptions;
using serving::TopKWriter;
using serving::ViewInfo;
using serving::ViewListing;
using serving::ViewReader;
using serving::WindowedTableOptions;
using serving::WindowedTableWriter;
using serving::WriteResult;
using testing::Contains;
using testing::ExpectOneErrorLine;
using testing::KappaOptions;
using testing::KappaProcess;
using testing::Lines;
using testing::RunResult;

// Options for every run here: $KAPPA_VIEW_DIR is unset unless `env` ("NAME=value" entries) sets
// it.
KappaOptions ViewOptions(std::vector<std::string> env = {}) {
  return KappaOptions{.unset_env = {"KAPPA_VIEW_DIR"}, .env = std::move(env)};
}

RunResult Kappa(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  return KappaProcess(args, ViewOptions(env)).Finish();
}

std::size_t CountOf(const std::string& text, std::string_view part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::string Joined(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& a : args) text += a + " ";
  return text;
}

// Bad input and failures print nothing on standard output and exactly one line, starting
// "kappa: ", on standard error.
void ExpectNoOutputAndOneErrorLine(const RunResult& r, const std::string& context) {
  EXPECT_EQ(r.out, "") << context;
  ExpectOneErrorLine(r, context);
}

// ISO-8601 UTC with nanoseconds, as the tool prints times; computed here independently.
std::string Utc(std::int64_t unix_ns) {
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(nanos));
  return buf;
}

Schema MakeSchema(std::vector<Field> fields) {
  auto s = Schema::Make(std::move(fields));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

template <class T>
T Must(serving::Result<T> r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    std::abort();
  }
  return std::move(r).value();
}

// 2023-11-14T22:13:20Z, a window start.
constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;
constexpr std::int64_t kMinute = 60'000'000'000;

class ViewCliTest : public ::testing::Test {
 protected:
  ViewCliTest() {
    static std::atomic<int> counter{0};
    root_ = "/dev/shm/kappa-view-cli-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1));
    std::filesystem::remove_all(root_);
    ::mkdir(root_.c_str(), 0700);
    ns_path_ = root_ + "/ns";
    ns_ = Must(Namespace::Open(ns_path_));
  }
  ~ViewCliTest() override {
    clicks_.reset();
    pages_.reset();
    windows_.reset();
    leaders_.reset();
    events_.reset();
    ns_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  // Runs "kappa view SUB --ns <the test namespace> ARGS...".
  RunResult View(const std::string& sub, const std::vector<std::string>& args = {}) {
    std::vector<std::string> all = {"view", sub, "--ns", ns_path_};
    all.insert(all.end(), args.begin(), args.end());
    return Kappa(all);
  }

  // "clicks": u64 keys named "user"; fields count (i64), score (f64), name (string of 12).
  void MakeClicks() {
    KeyedTableOptions o;
    o.key_name = "user";
    o.schema = MakeSchema({Field::I64("count"), Field::F64("score"), Field::String("name", 12)});
    clicks_ = Must(KeyedTableWriter::Create(*ns_, "clicks", 1, o));
    PutClick(42, 7, 0.1, "bob", 100);
  }
  void PutClick(std::uint64_t user, std::int64_t count, double score, std::string_view name,
                std::uint64_t offset) {
    const Schema& s = clicks_->schema();
    std::vector<std::byte> v(s.value_size());
    s.SetI64(v, 0, count);
    s.SetF64(v, 1, score);
    s.SetString(v, 2, name);
    ASSERT_EQ(clicks_->Upsert(user, v, offset), WriteResult::kOk);
  }

  // "pages": bytes keys (up to 16) named "page"; field hits (u64).
  void MakePages() {
    KeyedTableOptions o;
    o.key_type = KeyType::kBytes;
    o.key_size = 16;
    o.key_name = "page";
    o.schema = MakeSchema({Field::U64("hits")});
    pages_ = Must(KeyedTableWriter::Create(*ns_, "pages", 1, o));
    PutPage("/home", 5, 7);
    PutPage("a \"b\"\\", 18446744073709551615u, 8);
  }
  void PutPage(std::string_view page, std::uint64_t hits, std::uint64_t offset) {
    std::vector<std::byte> v(8);
    pages_->schema().SetU64(v, 0, hits);
    ASSERT_EQ(pages_->Upsert(page, v, offset), WriteResult::kOk);
  }

  // "windows": u64 keys named "user", tumbling minute windows; field n (i64).
  void MakeWindows() {
    WindowedTableOptions o;
    o.key_name = "user";
    o.schema = MakeSchema({Field::I64("n")});
    o.window_size_ns = kMinute;
    o.windows_per_key = 4;
    windows_ = Must(WindowedTableWriter::Create(*ns_, "windows", 1, o));
    std::vector<std::byte> v(8);
    auto put = [&](std::uint64_t user, std::int64_t start, std::int64_t n, std::uint64_t offset) {
      windows_->schema().SetI64(v, 0, n);
      ASSERT_EQ(windows_->Upsert(user, start, v, offset), WriteResult::kOk);
    };
    put(7, kT0, 3, 11);
    put(7, kT0 + kMinute, -4, 12);
    put(8, kT0, 1, 13);
    windows_->SetProgress(14, kT0 + kMinute);
  }

  // "leaders": top 3 by score (descending) of u64 keys named "player"; fields score (f64),
  // name (string of 8).
  void MakeLeaders() {
    TopKOptions o;
    o.key_name = "player";
    o.schema = MakeSchema({Field::F64("score"), Field::String("name", 8)});
    o.k = 3;
    o.order_field = "score";
    leaders_ = Must(TopKWriter::Create(*ns_, "leaders", 1, o));
    const Schema& s = leaders_->schema();
    auto offer = [&](std::uint64_t player, double score, std::string_view name,
                     std::uint64_t offset) {
      std::vector<std::byte> v(s.value_size());
      s.SetF64(v, 0, score);
      s.SetString(v, 1, name);
      ASSERT_EQ(leaders_->Offer(player, v, offset), WriteResult::kOk);
    };
    offer(1, 10.0, "ann", 21);
    offer(2, 99.5, "carol", 22);
    offer(3, 3.25, "dave", 23);
    offer(4, 50.0, "eve", 24);
    offer(5, 1.0, "fred", 25);
    leaders_->Publish();
  }

  // "events": a list of 4 rows; fields v (i64), tag (string of 8). Rows 0..5 appended, so 2..5
  // are retained.
  void MakeEvents() {
    ResultListOptions o;
    o.schema = MakeSchema({Field::I64("v"), Field::String("tag", 8)});
    o.capacity = 4;
    events_ = Must(ResultListWriter::Create(*ns_, "events", 1, o));
    const Schema& s = events_->schema();
    std::vector<std::byte> v(s.value_size());
    for (std::int64_t i = 0; i < 6; ++i) {
      s.SetI64(v, 0, i * 10);
      s.SetString(v, 1, "t" + std::to_string(i));
      ASSERT_EQ(events_->Append(v, 200 + static_cast<std::uint64_t>(i)), WriteResult::kOk);
    }
  }

  // Versions 1..n of keyed view `name` (the writers are closed again); the alias names 1.
  void MakeVersions(const std::string& name, std::uint32_t n) {
    for (std::uint32_t version = 1; version <= n; ++version) {
      KeyedTableOptions o;
      o.schema = MakeSchema({Field::I64("v")});
      auto w = Must(KeyedTableWriter::Create(*ns_, name, version, o));
      std::vector<std::byte> v(8);
      w->schema().SetI64(v, 0, version * 100);
      ASSERT_EQ(w->Upsert(1, v, version), WriteResult::kOk);
    }
  }

  ViewListing Describe(const std::string& name) { return Must(ns_->Describe(name)); }

  std::string root_;
  std::string ns_path_;
  std::unique_ptr<Namespace> ns_;
  std::unique_ptr<KeyedTableWriter> clicks_;
  std::unique_ptr<KeyedTableWriter> pages_;
  std::unique_ptr<WindowedTableWriter> windows_;
  std::unique_ptr<TopKWriter> leaders_;
  std::unique_ptr<ResultListWriter> events_;
};

TEST_F(ViewCliTest, ShouldPrintUsageForHelpAndExitZero) {
  const std::vector<std::vector<std::string>> commands = {
      {"view", "--help"},
      {"view", "-h"},
      {"view", "help"},
      {"view", "ls", "--help"},
      {"view", "info", "--help"},
      {"view", "get", "--help"},
      {"view", "scan", "--help"},
      {"view", "top", "--help"},
      {"view", "watch", "--help"},
      {"view", "flip", "--help"},
      {"view", "revert", "--help"},
      {"view", "retire", "--help"},
      {"view", "drop", "--help"},
      {"view", "get", "x@abc", "--bogus", "--help"}};
  for (const auto& args : commands) {
    const RunResult r = Kappa(args);
    EXPECT_EQ(r.status, 0) << Joined(args);
    EXPECT_TRUE(r.out.starts_with("Usage: kappa view")) << r.out;
    EXPECT_EQ(r.err, "");
  }
  const RunResult top = Kappa({"--help"});
  EXPECT_TRUE(Contains(top.out, "  view ls|info|get|scan|top|watch")) << top.out;
}

// ----------------------------------------------------------------------------- get

TEST_F(ViewCliTest, ShouldGetAU64KeyAsTableAndJson) {
  MakeClicks();
  const RunResult table = View("get", {"clicks", "42"});
  EXPECT_EQ(table.status, 0) << table.err;
  EXPECT_EQ(table.err, "");
  EXPECT_EQ(table.out,
            "user  count  score  name  offset\n"
            "  42      7    0.1  bob      100\n");
  const RunResult json = View("get", {"clicks", "42", "--format", "jsonl"});
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out, "{\"user\":42,\"count\":7,\"score\":0.1,\"name\":\"bob\",\"offset\":100}\n");
  // By version, too.
  EXPECT_EQ(View("get", {"clicks@1", "42", "--format=jsonl"}).out, json.out);
}

TEST_F(ViewCliTest, ShouldPrintFloatsExactlyAndNonFiniteAsNull) {
  MakeClicks();
  const struct {
    double value;
    const char* json;
    const char* text;
  } cases[] = {
      {3.0, "3.0", "3.0"},
      {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
      {-0.0, "-0.0", "-0.0"},
      {1e21, "1e+21", "1e+21"},
      {-2.5e-300, "-2.5e-300", "-2.5e-300"},
      {std::numeric_limits<double>::quiet_NaN(), "null", "nan"},
      {std::numeric_limits<double>::infinity(), "null", "inf"},
      {-std::numeric_limits<double>::infinity(), "null", "-inf"},
  };
  std::uint64_t user = 1000;
  for (const auto& c : cases) {
    PutClick(user, -9, c.value, "", 5);
    const std::string key = std::to_string(user++);
    const RunResult json = View("get", {"clicks", key, "--format", "jsonl"});
    EXPECT_EQ(json.out, "{\"user\":" + key + ",\"count\":-9,\"score\":" + c.json +
                            ",\"name\":\"\",\"offset\":5}\n");
    const RunResult table = View("get", {"clicks", key});
    const std::vector<std::string> lines = Lines(table.out);
    ASSERT_EQ(lines.size(), 2u) << table.out;
    EXPECT_TRUE(Contains(lines[1], std::string("  ") + c.text + "  ")) << lines[1];
  }
}

TEST_F(ViewCliTest, ShouldEscapeStringsInTablesAndJson) {
  MakeClicks();
  PutClick(5, 1, 1.5, "a\"b\\c\n\xc3\xa9\xff", 9);
  EXPECT_EQ(View("get", {"clicks", "5", "--format", "jsonl"}).out,
            "{\"user\":5,\"count\":1,\"score\":1.5,\"name\":\"a\\\"b\\\\c\\u000a\xc3\xa9\\u00ff\","
            "\"offset\":9}\n");
  EXPECT_EQ(View("get", {"clicks", "5"}).out,
            "user  count  score  name                    offset\n"
            "   5      1    1.5  a\"b\\\\c\\x0a\\xc3\\xa9\\xff       9\n");
}

TEST_F(ViewCliTest, ShouldGetABytesKey) {
  MakePages();
  EXPECT_EQ(View("get", {"pages", "/home", "--format", "jsonl"}).out,
            "{\"page\":\"/home\",\"hits\":5,\"offset\":7}\n");
  const RunResult quoted = View("get", {"pages", "a \"b\"\\", "--format", "jsonl"});
  EXPECT_EQ(quoted.status, 0) << quoted.err;
  EXPECT_EQ(quoted.out,
            "{\"page\":\"a \\\"b\\\"\\\\\",\"hits\":18446744073709551615,\"offset\":8}\n");
  EXPECT_EQ(View("get", {"pages", "/home"}).out,
            "page   hits  offset\n"
            "/home     5       7\n");
  // A number is just text for a bytes-keyed view.
  const RunResult missing = View("get", {"pages", "42"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "kappa: pages: key '42' not found\n");
}

TEST_F(ViewCliTest, ShouldGetEveryWindowOfAKeyOrOne) {
  MakeWindows();
  const RunResult all = View("get", {"windows", "7", "--format", "jsonl"});
  EXPECT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(all.out,
            "{\"user\":7,\"window_start\":1700000000000000000,\"n\":3,\"offset\":11}\n"
            "{\"user\":7,\"window_start\":1700000060000000000,\"n\":-4,\"offset\":12}\n");
  EXPECT_EQ(View("get", {"windows", "7"}).out,
            "user  window_start                     n  offset\n"
            "   7  2023-11-14T22:13:20.000000000Z   3      11\n"
            "   7  2023-11-14T22:14:20.000000000Z  -4      12\n");
  const std::string second =
      "{\"user\":7,\"window_start\":1700000060000000000,\"n\":-4,\"offset\":12}\n";
  EXPECT_EQ(
      View("get", {"windows", "7", "--window", "1700000060000000000", "--format", "jsonl"}).out,
      second);
  // The window start as the table shows it.
  EXPECT_EQ(View("get", {"windows", "7", "--window", "2023-11-14T22:14:20.000000000Z", "--format",
                         "jsonl"})
                .out,
            second);
  const RunResult none = View("get", {"windows", "7", "--window", "1700000000000000001"});
  EXPECT_EQ(none.status, 1);
  EXPECT_EQ(none.err,
            "kappa: windows: key 7 has no window starting at 1700000000000000001 "
            "(2023-11-14T22:13:20.000000001Z)\n");
  const RunResult no_key = View("get", {"windows", "9"});
  EXPECT_EQ(no_key.status, 1);
  EXPECT_EQ(no_key.err, "kappa: windows: key 9 has no windows\n");
}

TEST_F(ViewCliTest, ShouldGetAKeyOfATopKViewWithItsRank) {
  MakeLeaders();
  EXPECT_EQ(View("get", {"leaders", "1", "--format", "jsonl"}).out,
            "{\"rank\":3,\"player\":1,\"score\":10.0,\"name\":\"ann\",\"offset\":21}\n");
  const RunResult out = View("get", {"leaders", "5"});
  EXPECT_EQ(out.status, 1);
  EXPECT_EQ(out.err, "kappa: leaders: key 5 is not in the list (the top 3)\n");
  EXPECT_EQ(out.out, "");
}

// ----------------------------------------------------------------------------- scan, top

TEST_F(ViewCliTest, ShouldScanAKeyedViewInSlotOrder) {
  MakeClicks();
  std::map<std::uint64_t, std::string> expected;
  expected[42] = "{\"user\":42,\"count\":7,\"score\":0.1,\"name\":\"bob\",\"offset\":100}";
  for (std::uint64_t user = 1; user <= 30; ++user) {
    const double score = static_cast<double>(user) / 4;  // exact in binary: %g prints it whole
    PutClick(user, static_cast<std::int64_t>(user) * 2, score, "u" + std::to_string(user),
             1000 + user);
    char text[32];
    std::snprintf(text, sizeof text, "%g", score);
    std::string score_text = text;
    if (score_text.find('.') == std::string::npos) score_text += ".0";
    expected[user] = "{\"user\":" + std::to_string(user) +
                     ",\"count\":" + std::to_string(user * 2) + ",\"score\":" + score_text +
                     ",\"name\":\"u" + std::to_string(user) +
                     "\",\"offset\":" + std::to_string(1000 + user) + "}";
  }
  // The slot order, as a reader sees it.
  auto reader = Must(ViewReader::Open(ns_path_, "clicks"));
  std::string want;
  ASSERT_EQ(reader->Scan([&](const RowView& row) {
    want += expected[row.key_u64] + "\n";
    return true;
  }),
            ReadStatus::kOk);
  const RunResult json = View("scan", {"clicks", "--format", "jsonl"});
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out, want);
  EXPECT_EQ(Lines(json.out).size(), 31u);

  const RunResult limited = View("scan", {"clicks", "--format", "jsonl", "--limit", "2"});
  const std::vector<std::string> all = Lines(want);
  EXPECT_EQ(limited.out, all[0] + "\n" + all[1] + "\n");

  const RunResult table = View("scan", {"clicks"});
  EXPECT_EQ(table.status, 0) << table.err;
  const std::vector<std::string> lines = Lines(table.out);
  ASSERT_EQ(lines.size(), 32u);
  EXPECT_EQ(lines[0], "user  count  score  name  offset");
  EXPECT_TRUE(Contains(table.out, "\n  42      7    0.1  bob      100\n")) << table.out;
  // Aligned: the last column is right-aligned, so every line is as long as the header.
  for (const std::string& line : lines) EXPECT_EQ(line.size(), lines[0].size()) << line;
}

TEST_F(ViewCliTest, ShouldScanEveryKind) {
  MakePages();
  MakeWindows();
  MakeLeaders();
  MakeEvents();
  const RunResult pages = View("scan", {"pages", "--format", "jsonl"});
  EXPECT_EQ(pages.status, 0) << pages.err;
  EXPECT_EQ(Lines(pages.out).size(), 2u);
  EXPECT_TRUE(Contains(pages.out, "{\"page\":\"/home\",\"hits\":5,\"offset\":7}\n"));

  const RunResult windows = View("scan", {"windows", "--format", "jsonl"});
  EXPECT_EQ(windows.status, 0) << windows.err;
  EXPECT_EQ(Lines(windows.out).size(), 3u);  // directories are not rows
  EXPECT_TRUE(Contains(
      windows.out, "{\"user\":8,\"window_start\":1700000000000000000,\"n\":1,\"offset\":13}\n"));

  const std::string leaders =
      "{\"rank\":1,\"player\":2,\"score\":99.5,\"name\":\"carol\",\"offset\":22}\n"
      "{\"rank\":2,\"player\":4,\"score\":50.0,\"name\":\"eve\",\"offset\":24}\n"
      "{\"rank\":3,\"player\":1,\"score\":10.0,\"name\":\"ann\",\"offset\":21}\n";
  EXPECT_EQ(View("scan", {"leaders", "--format", "jsonl"}).out, leaders);

  const RunResult events = View("scan", {"events", "--format", "jsonl"});
  EXPECT_EQ(events.status, 0) << events.err;
  EXPECT_EQ(events.out,
            "{\"index\":2,\"v\":20,\"tag\":\"t2\",\"offset\":202}\n"
            "{\"index\":3,\"v\":30,\"tag\":\"t3\",\"offset\":203}\n"
            "{\"index\":4,\"v\":40,\"tag\":\"t4\",\"offset\":204}\n"
            "{\"index\":5,\"v\":50,\"tag\":\"t5\",\"offset\":205}\n");
  EXPECT_EQ(View("scan", {"events"}).out,
            "index   v  tag  offset\n"
            "    2  20  t2      202\n"
            "    3  30  t3      203\n"
            "    4  40  t4      204\n"
            "    5  50  t5      205\n");
}

TEST_F(ViewCliTest, ShouldPrintOnlyTheHeaderForAnEmptyView) {
  ResultListOptions o;
  o.schema = MakeSchema({Field::I64("v")});
  auto empty = Must(ResultListWriter::Create(*ns_, "empty", 1, o));
  const RunResult table = View("scan", {"empty"});
  EXPECT_EQ(table.status, 0) << table.err;
  EXPECT_EQ(table.out, "index  v  offset\n");
  const RunResult json = View("scan", {"empty", "--format", "jsonl"});
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out, "");
}

TEST_F(ViewCliTest, ShouldPrintATopKListBestFirst) {
  MakeLeaders();
  const RunResult table = View("top", {"leaders"});
  EXPECT_EQ(table.status, 0) << table.err;
  EXPECT_EQ(table.out,
            "rank  player  score  name   offset\n"
            "   1       2   99.5  carol      22\n"
            "   2       4   50.0  eve        24\n"
            "   3       1   10.0  ann        21\n");
  const RunResult json = View("top", {"leaders", "--limit", "2", "--format", "jsonl"});
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out,
            "{\"rank\":1,\"player\":2,\"score\":99.5,\"name\":\"carol\",\"offset\":22}\n"
            "{\"rank\":2,\"player\":4,\"score\":50.0,\"name\":\"eve\",\"offset\":24}\n");
}

TEST_F(ViewCliTest, ShouldRenameColumnsWhoseNamesAreTaken) {
  // "offset" is the row's own member: a key and a field of that name are renamed.
  KeyedTableOptions o;
  o.key_name = "offset";
  o.schema = MakeSchema({Field::I64("offset_"), Field::I64("rank")});
  auto w = Must(KeyedTableWriter::Create(*ns_, "clash", 1, o));
  std::vector<std::byte> v(16);
  w->schema().SetI64(v, 0, 2);
  w->schema().SetI64(v, 1, 3);
  ASSERT_EQ(w->Upsert(1, v, 9), WriteResult::kOk);
  EXPECT_EQ(View("get", {"clash", "1", "--format", "jsonl"}).out,
            "{\"offset_\":1,\"offset__\":2,\"rank\":3,\"offset\":9}\n");
}

// ----------------------------------------------------------------------------- info, ls

TEST_F(ViewCliTest, ShouldDescribeAViewAsExactJson) {
  MakeLeaders();
  leaders_->SetProgress(26, 123);
  const RunResult r = View("info", {"leaders", "--format", "jsonl"});
  EXPECT_EQ(r.status, 0) << r.err;
  auto reader = Must(ViewReader::Open(ns_path_, "leaders"));
  const ViewInfo i = reader->Info();
  const std::string pid = std::to_string(::getpid());
  const std::string counters =
      "{\"updates\":1,\"inserts\":0,\"entries\":3,\"tombstones\":0,\"expired\":0,"
      "\"repaired\":0,\"publishes\":1}";
  const std::string heartbeat = std::to_string(i.heartbeat_unix_ns);
  EXPECT_EQ(
      r.out,
      "{\"namespace\":\"" + ns_path_ + "\",\"name\":\"leaders\",\"version\":1," +
          "\"alias\":\"leaders\",\"alias_epoch\":1,\"generation\":0,\"shard_count\":1," +
          "\"kind\":\"topk\",\"key_type\":\"u64\",\"key_name\":\"player\",\"key_size\":8," +
          "\"value_size\":16,\"fields\":[{\"name\":\"score\",\"type\":\"f64\",\"size\":8," +
          "\"offset\":0},{\"name\":\"name\",\"type\":\"string\",\"size\":8,\"offset\":8}]," +
          "\"capacity\":3,\"window_size_ns\":0,\"window_slide_ns\":0,\"retention_ns\":0," +
          "\"windows_per_key\":0,\"order_field\":\"score\",\"order_descending\":true," +
          "\"created_unix_ns\":" + std::to_string(i.created_unix_ns) +
          ",\"file_bytes\":" + std::to_string(i.file_bytes) + ",\"writer_pid\":" + pid +
          ",\"writer_alive\":true,\"heartbeat_unix_ns\":" + heartbeat +
          ",\"writer_epoch\":1,\"writer_state\":\"live\",\"applied_offset\":26," +
          "\"watermark_ns\":123,\"newest_window\":0,\"list_count\":0,\"counters\":" + counters +
          ",\"shards\":[{\"shard\":0,\"generation\":0,\"capacity\":3," + "\"writer_pid\":" + pid +
          ",\"writer_alive\":true,\"heartbeat_unix_ns\":" + heartbeat +
          ",\"applied_offset\":26,\"watermark_ns\":123,\"counters\":" + counters + "}]}\n");

  // By version: no alias.
  const RunResult pinned = View("info", {"leaders@1", "--format", "jsonl"});
  EXPECT_TRUE(
      Contains(pinned.out, "\"name\":\"leaders\",\"version\":1,\"alias\":null,\"alias_epoch\":0,"))
      << pinned.out;
}

TEST_F(ViewCliTest, ShouldDescribeAViewAsATable) {
  MakeWindows();
  const RunResult r = View("info", {"windows"});
  EXPECT_EQ(r.status, 0) << r.err;
  auto reader = Must(ViewReader::Open(ns_path_, "windows"));
  const ViewInfo i = reader->Info();
  const std::vector<std::string> lines = Lines(r.out);
  const std::vector<std::string> head = {
      "namespace          " + ns_path_,
      "view               windows@1",
      "alias              windows (epoch 1)",
      "generation         0",
      "shards             1",
      "kind               windowed",
      "key                user (u64)",
      "value size         8 bytes",
      "fields             1",
      "  name  type  size  offset",
      "  n     i64      8       0",
      "capacity           " + std::to_string(i.capacity) + " slots",
      "window size        60000000000 ns (1 min)",
      "window slide       60000000000 ns (1 min)",
      "retention          none",
      "windows per key    4",
      "created            " + Utc(i.created_unix_ns),
  };
  ASSERT_EQ(lines.size(), head.size() + 16) << r.out;
  for (std::size_t n = 0; n < head.size(); ++n) EXPECT_EQ(lines[n], head[n]);
  std::map<std::string, std::string> rest;
  for (std::size_t n = head.size(); n < lines.size(); ++n)
    rest[lines[n].substr(0, 18)] = lines[n].substr(19);
  EXPECT_TRUE(rest["file bytes        "].starts_with(std::to_string(i.file_bytes) + " ("));
  EXPECT_EQ(rest["writer pid        "], std::to_string(::getpid()) + " (alive)");
  EXPECT_TRUE(rest["writer heartbeat  "].starts_with(Utc(i.heartbeat_unix_ns) + " ("));
  EXPECT_TRUE(rest["writer heartbeat  "].ends_with(" ago)")) << rest["writer heartbeat  "];
  EXPECT_EQ(rest["writer epoch      "], "1");
  EXPECT_EQ(rest["writer state      "], "live");
  EXPECT_EQ(rest["applied offset    "], "14");
  EXPECT_EQ(rest["watermark         "], "1700000060000000000 (2023-11-14T22:14:20.000000000Z)");
  EXPECT_EQ(rest["newest window     "], "1700000060000000000 (2023-11-14T22:14:20.000000000Z)");
  EXPECT_EQ(rest["updates           "], std::to_string(i.counters.updates));
  EXPECT_EQ(rest["inserts           "], std::to_string(i.counters.inserts));
  // Three windows of two keys: rows apart from the slots (each key has a directory slot too).
  EXPECT_EQ(rest["rows              "], "3");
  EXPECT_EQ(rest["slots used        "], "5 (the rows, and one window directory per key)");
  for (const char* label :
       {"tombstones        ", "expired           ", "repaired          ", "publishes         "})
    EXPECT_EQ(rest[label], "0") << label;

  // The end of a bounded run: every window closed.
  windows_->SetProgress(15, std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(Contains(View("info", {"windows"}).out,
                       "\nwatermark          end of input (every window closed)\n"));
  // A writer that closed leaves no pid.
  windows_.reset();
  const RunResult closed = View("info", {"windows"});
  EXPECT_TRUE(Contains(closed.out, "\nwriter pid         none attached\n")) << closed.out;
}

TEST_F(ViewCliTest, ShouldListViewsWithVersionsAndAliases) {
  MakeVersions("a", 2);
  MakeLeaders();
  ASSERT_TRUE(ns_->Flip("a", 2).ok());
  const std::vector<ViewListing> listing = ns_->List();
  ASSERT_EQ(listing.size(), 2u);
  const auto& a = listing[0].versions;
  const auto& b = listing[1].versions;
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 1u);

  const RunResult table = View("ls");
  EXPECT_EQ(table.status, 0) << table.err;
  const std::string a1 = Utc(a[0].created_unix_ns);
  const std::string a2 = Utc(a[1].created_unix_ns);
  const std::string b1 = Utc(b[0].created_unix_ns);
  EXPECT_EQ(table.out,
            "name     version  alias     kind   shards  generation  epoch  created\n"
            "a              1  previous  keyed       1           0      2  " +
                a1 + "\n" + "a              2  current   keyed       1           0      2  " + a2 +
                "\n" + "leaders        1  current   topk        1           0      1  " + b1 +
                "\n");

  const RunResult json = View("ls", {"--format", "jsonl"});
  EXPECT_EQ(json.status, 0) << json.err;
  const std::string keyed = "\"kind\":\"keyed\",\"shards\":1,\"shards_present\":1,";
  const std::string topk = "\"kind\":\"topk\",\"shards\":1,\"shards_present\":1,";
  EXPECT_EQ(
      json.out,
      "{\"name\":\"a\",\"current\":2,\"previous\":1,\"alias_epoch\":2,\"flipped_unix_ns\":" +
          std::to_string(listing[0].flipped_unix_ns) + ",\"versions\":[{\"version\":1," + keyed +
          "\"generation\":0,\"created_unix_ns\":" + std::to_string(a[0].created_unix_ns) +
          "},{\"version\":2," + keyed +
          "\"generation\":0,\"created_unix_ns\":" + std::to_string(a[1].created_unix_ns) + "}]}\n" +
          "{\"name\":\"leaders\",\"current\":1,\"previous\":null,\"alias_epoch\":1," +
          "\"flipped_unix_ns\":" + std::to_string(listing[1].flipped_unix_ns) +
          ",\"versions\":[{\"version\":1," + topk +
          "\"generation\":0,\"created_unix_ns\":" + std::to_string(b[0].created_unix_ns) + "}]}\n");
}

TEST_F(ViewCliTest, ShouldReadAndDescribeAShardedView) {
  // Version 1: two shards, each with its own writer; keys go to the shard ShardOf names.
  std::vector<std::unique_ptr<KeyedTableWriter>> shards;
  for (std::uint32_t shard = 0; shard < 2; ++shard) {
    KeyedTableOptions o;
    o.key_name = "user";
    o.schema = MakeSchema({Field::I64("n")});
    o.shards = 2;
    o.shard = shard;
    shards.push_back(Must(KeyedTableWriter::Create(*ns_, "split", 1, o)));
  }
  std::vector<std::byte> v(8);
  std::uint64_t per_shard[2] = {0, 0};
  for (std::uint64_t user = 1; user <= 8; ++user) {
    const std::uint32_t shard = serving::ShardOf(user, 2);
    ++per_shard[shard];
    shards[shard]->schema().SetI64(v, 0, static_cast<std::int64_t>(user * 11));
    ASSERT_EQ(shards[shard]->Upsert(user, v, user), WriteResult::kOk);
  }
  shards[0]->SetProgress(9, 0);
  shards[1]->SetProgress(7, 0);
  ASSERT_GT(per_shard[0], 0u);
  ASSERT_GT(per_shard[1], 0u);

  for (std::uint64_t user = 1; user <= 8; ++user) {
    const std::string key = std::to_string(user);
    EXPECT_EQ(
        View("get", {"split", key, "--format", "jsonl"}).out,
        "{\"user\":" + key + ",\"n\":" + std::to_string(user * 11) + ",\"offset\":" + key + "}\n");
  }
  const RunResult scan = View("scan", {"split", "--format", "jsonl"});
  EXPECT_EQ(scan.status, 0) << scan.err;
  EXPECT_EQ(Lines(scan.out).size(), 8u) << scan.out;

  const RunResult info = View("info", {"split"});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_TRUE(Contains(info.out, "\nshards             2\n")) << info.out;
  EXPECT_TRUE(Contains(info.out, "\ngeneration         0 (shard 0)\n")) << info.out;
  // The slowest shard's progress.
  EXPECT_TRUE(Contains(info.out, "\napplied offset     7\n")) << info.out;
  EXPECT_TRUE(Contains(info.out, "\nentries            8\n")) << info.out;
  EXPECT_TRUE(Contains(info.out, "\nwriters            2/2 alive\n")) << info.out;
  EXPECT_TRUE(Contains(info.out, "\nwriter epoch       1 (shard 0)\n")) << info.out;
  // Then one line per shard.
  const std::vector<std::string> lines = Lines(info.out);
  ASSERT_GE(lines.size(), 3u);
  const std::string& header = lines[lines.size() - 3];
  const std::string& shard0 = lines[lines.size() - 2];
  const std::string& shard1 = lines[lines.size() - 1];
  EXPECT_TRUE(header.starts_with("  shard  generation  capacity  writer")) << header;
  EXPECT_TRUE(header.ends_with("  applied offset  watermark  updates  entries")) << header;
  const std::string pid = std::to_string(::getpid());
  EXPECT_TRUE(shard0.starts_with("      0           0")) << shard0;
  EXPECT_TRUE(Contains(shard0, "  " + pid + " (alive)  ")) << shard0;
  EXPECT_TRUE(shard0.ends_with(" " + std::to_string(per_shard[0]))) << shard0;
  EXPECT_TRUE(shard1.starts_with("      1           0")) << shard1;
  EXPECT_TRUE(shard1.ends_with(" " + std::to_string(per_shard[1]))) << shard1;

  const RunResult json = View("info", {"split", "--format", "jsonl"});
  EXPECT_TRUE(Contains(json.out, ",\"generation\":0,\"shard_count\":2,")) << json.out;
  EXPECT_TRUE(Contains(json.out, ",\"shards\":[{\"shard\":0,\"generation\":0,")) << json.out;
  EXPECT_TRUE(Contains(json.out, "},{\"shard\":1,\"generation\":0,")) << json.out;
  EXPECT_TRUE(Contains(json.out, ",\"applied_offset\":7,\"watermark_ns\":0,\"counters\":{"))
      << json.out;

  const RunResult watch = View("watch", {"split", "--count", "1", "--limit", "0"});
  EXPECT_EQ(watch.status, 0) << watch.err;
  EXPECT_TRUE(watch.out.starts_with("split: split@1, keyed, 2 shards, 8 entries, at "))
      << watch.out;
  EXPECT_TRUE(Contains(watch.out, "\nwriters 2/2 alive   heartbeat ")) << watch.out;

  // Version 2 with one of its two shards: listed as "1/2", and not yet a flip target.
  KeyedTableOptions o;
  o.key_name = "user";
  o.schema = MakeSchema({Field::I64("n")});
  o.shards = 2;
  auto half = Must(KeyedTableWriter::Create(*ns_, "split", 2, o));
  const RunResult ls = View("ls");
  EXPECT_TRUE(Contains(ls.out, "\nsplit        2           keyed     1/2  ")) << ls.out;
  EXPECT_TRUE(Contains(View("ls", {"--format", "jsonl"}).out,
                       "{\"version\":2,\"kind\":\"keyed\",\"shards\":2,\"shards_present\":1,"));
  const RunResult flip = View("flip", {"split", "2"});
  EXPECT_EQ(flip.status, 1);
  EXPECT_EQ(flip.err, "kappa: split@2: shard 1 of 2 has not been created yet\n");
}

TEST_F(ViewCliTest, ShouldListAnEmptyNamespace) {
  const RunResult table = View("ls");
  EXPECT_EQ(table.status, 0) << table.err;
  EXPECT_EQ(table.out, "no views in " + ns_path_ + "\n");
  const RunResult json = View("ls", {"--format", "jsonl"});
  EXPECT_EQ(json.status, 0) << json.err;
  EXPECT_EQ(json.out, "");
}

TEST_F(ViewCliTest, ShouldResolveBareNamespaceNamesInTheViewDirectory) {
  auto other = Must(Namespace::Open(root_ + "/mine"));
  auto defaults = Must(Namespace::Open(root_ + "/default"));
  KeyedTableOptions o;
  o.schema = MakeSchema({Field::I64("v")});
  auto w1 = Must(KeyedTableWriter::Create(*other, "in_mine", 1, o));
  auto w2 = Must(KeyedTableWriter::Create(*defaults, "in_default", 1, o));
  const std::vector<std::string> env = {"KAPPA_VIEW_DIR=" + root_};
  const RunResult mine = Kappa({"view", "ls", "--ns", "mine", "--format", "jsonl"}, env);
  EXPECT_EQ(mine.status, 0) << mine.err;
  EXPECT_TRUE(mine.out.starts_with("{\"name\":\"in_mine\",")) << mine.out;
  const RunResult fallback = Kappa({"view", "ls", "--format", "jsonl"}, env);
  EXPECT_EQ(fallback.status, 0) << fallback.err;
  EXPECT_TRUE(fallback.out.starts_with("{\"name\":\"in_default\",")) << fallback.out;
  const RunResult info =
      Kappa({"view", "info", "in_mine", "--ns", "mine", "--format", "jsonl"}, env);
  EXPECT_TRUE(info.out.starts_with("{\"namespace\":\"" + root_ + "/mine\",")) << info.out;
}

// ----------------------------------------------------------------------------- watch

TEST_F(ViewCliTest, ShouldWatchWithoutATerminalPrintingEachRefresh) {
  MakeClicks();
  clicks_->SetProgress(101, 0);
  const RunResult r = View("watch", {"clicks", "--count", "2", "--interval", "50"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(Contains(r.out, "\x1b")) << r.out;
  const std::vector<std::string> lines = Lines(r.out);
  // Two refreshes of 6 lines (3 of status, a blank, the table of 2), a blank line between.
  ASSERT_EQ(lines.size(), 13u) << r.out;
  const std::string pid = std::to_string(::getpid());
  for (std::size_t first : {std::size_t{0}, std::size_t{7}}) {
    EXPECT_TRUE(lines[first].starts_with("clicks: clicks@1, keyed, 1 entries, at "))
        << lines[first];
    EXPECT_EQ(lines[first + 1], "applied offset 101   watermark none");
    EXPECT_TRUE(lines[first + 2].starts_with("writer " + pid + " (alive)   heartbeat "))
        << lines[first + 2];
    EXPECT_EQ(lines[first + 3], "");
    EXPECT_EQ(lines[first + 4], "user  count  score  name  offset");
    EXPECT_EQ(lines[first + 5], "  42      7    0.1  bob      100");
  }
  EXPECT_EQ(lines[6], "");
  EXPECT_TRUE(lines[2].ends_with(" ago   updates/s -")) << lines[2];
  EXPECT_TRUE(lines[9].ends_with(" ago   updates/s 0.0")) << lines[9];
}

TEST_F(ViewCliTest, ShouldWatchAsJsonLines) {
  MakeEvents();
  const RunResult r = View(
      "watch", {"events", "--count", "2", "--interval", "20", "--limit", "2", "--format", "jsonl"});
  EXPECT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const std::string prefix =
      "{\"view\":\"events\",\"version\":1,\"shard_count\":1,\"time_unix_ns\":";
  const std::string status =
      ",\"applied_offset\":0,\"watermark_ns\":0,\"writer_pid\":" + std::to_string(::getpid()) +
      ",\"writer_alive\":true,\"heartbeat_unix_ns\":";
  // A list's newest rows.
  const std::string rows =
      ",\"rows\":[{\"index\":4,\"v\":40,\"tag\":\"t4\",\"offset\":204},"
      "{\"index\":5,\"v\":50,\"tag\":\"t5\",\"offset\":205}]}";
  for (const std::string& line : lines) {
    EXPECT_TRUE(line.starts_with(prefix)) << line;
    EXPECT_TRUE(Contains(line, status)) << line;
    EXPECT_TRUE(line.ends_with(rows)) << line;
  }
  EXPECT_TRUE(Contains(lines[0], ",\"updates\":6,\"updates_per_s\":null,\"rows\"")) << lines[0];
  EXPECT_TRUE(Contains(lines[1], ",\"updates\":6,\"updates_per_s\":0.0,\"rows\"")) << lines[1];
}

TEST_F(ViewCliTest, ShouldRedrawInPlaceOnATerminal) {
  MakeLeaders();
  KappaOptions on_terminal = ViewOptions();
  on_terminal.stdout_is_terminal = true;
  KappaProcess p({"view", "watch", "leaders", "--ns", ns_path_, "--count", "2", "--interval", "20"},
                 on_terminal);
  const RunResult r = p.Finish();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(CountOf(r.out, "\x1b[H\x1b[J"), 2u) << r.out;
  EXPECT_TRUE(r.out.starts_with("\x1b[H\x1b[J")) << r.out;
  EXPECT_EQ(CountOf(r.out, "   1       2   99.5  carol      22"), 2u) << r.out;
}

TEST_F(ViewCliTest, ShouldStopWatchingCleanlyOnSigintAndSigterm) {
  MakeClicks();
  for (const int signal : {SIGINT, SIGTERM}) {
    KappaProcess p({"view", "watch", "clicks", "--ns", ns_path_, "--interval", "100"},
                   ViewOptions());
    ASSERT_TRUE(p.WaitForOutput("  42      7    0.1  bob      100\n"));
    p.Signal(signal);
    const RunResult r = p.Finish();
    EXPECT_EQ(r.status, 0) << "signal " << signal << ": " << r.err;
    EXPECT_EQ(r.err, "");
  }
}

// A view file truncated under a watch (only its owner can do that) stops it with an error that
// says so, not a SIGBUS.
TEST_F(ViewCliTest, ShouldStopWatchingWithAnErrorWhenTheFileIsTruncated) {
  MakeClicks();
  KappaProcess p({"view", "watch", "clicks", "--ns", ns_path_, "--interval", "50"}, ViewOptions());
  ASSERT_TRUE(p.WaitForOutput("  42      7    0.1  bob      100\n"));
  const std::string file = ns_path_ + "/clicks@1.0.view";
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  ASSERT_EQ(::truncate(file.c_str(), 0), 0);
  const RunResult r = p.Finish();
  ASSERT_EQ(::truncate(file.c_str(), st.st_size), 0);  // back, for this process's own writer
  EXPECT_EQ(r.status, 1) << r.err;                     // not 128 + SIGBUS
  EXPECT_TRUE(Contains(r.err, "clicks: its file was truncated under the reader: stopping"))
      << r.err;
}

TEST_F(ViewCliTest, ShouldFollowAFlipWhileWatching) {
  MakeVersions("q", 2);
  KappaProcess p({"view", "watch", "q", "--ns", ns_path_, "--interval", "50", "--format", "jsonl"},
                 ViewOptions());
  ASSERT_TRUE(p.WaitForOutput("\"rows\":[{\"key\":1,\"v\":100,\"offset\":1}]}\n"));
  ASSERT_TRUE(ns_->Flip("q", 2).ok());
  ASSERT_TRUE(p.WaitForOutput("\"rows\":[{\"key\":1,\"v\":200,\"offset\":2}]}\n"));
  p.Signal(SIGTERM);
  const RunResult r = p.Finish();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "{\"view\":\"q\",\"version\":2,")) << r.out;
}

// ----------------------------------------------------------------------------- flip, revert, ...

TEST_F(ViewCliTest, ShouldFlipRevertRetireAndDrop) {
  MakeVersions("q5", 3);
  auto reader = Must(ViewReader::Open(ns_path_, "q5"));
  std::vector<std::byte> v(8);
  std::uint64_t offset = 0;
  auto current = [&] {
    EXPECT_EQ(reader->Get(1, v, &offset), ReadStatus::kOk);
    return reader->version();
  };
  ASSERT_EQ(current(), 1u);

  RunResult r = View("flip", {"q5", "2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q5: now version 2 (was 1; revert returns to 1)\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(current(), 2u);

  r = View("flip", {"q5@3"});
  EXPECT_EQ(r.out, "q5: now version 3 (was 2; revert returns to 2)\n");
  EXPECT_EQ(current(), 3u);

  r = View("revert", {"q5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q5: now version 2 (was 3; revert returns to 3)\n");
  EXPECT_EQ(current(), 2u);

  r = View("flip", {"q5", "2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q5: already version 2; nothing changed\n");

  // Refused: the current version.
  r = View("retire", {"q5@2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: q5@2: is current; flip to another version first\n");

  r = View("retire", {"q5", "1"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q5@1: retired (versions left: 2, 3; current 2)\n");
  const ViewListing after = Describe("q5");
  ASSERT_EQ(after.versions.size(), 2u);
  EXPECT_EQ(after.versions[0].version, 2u);
  EXPECT_FALSE(ViewReader::Open(ns_path_, "q5@1").ok());

  r = View("flip", {"q5", "1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: q5@1: no such view in " + ns_path_ + "\n");

  // The revert target can go too; there is nothing to revert to after it.
  r = View("retire", {"q5@3"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q5@3: retired (versions left: 2; current 2; no revert now)\n");
  r = View("revert", {"q5"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: q5: no previous version to revert to\n");

  r = View("drop", {"q5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "q5: dropped (version 2)\n");
  EXPECT_EQ(reader->Get(1, v, &offset), ReadStatus::kGone);
  EXPECT_FALSE(ns_->Describe("q5").ok());
  EXPECT_EQ(View("ls").out, "no views in " + ns_path_ + "\n");

  r = View("drop", {"q5"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: q5: no such view in " + ns_path_ + "\n");
  r = View("revert", {"q5"});
  EXPECT_EQ(r.status, 1);
  ExpectNoOutputAndOneErrorLine(r, "revert after drop");
}

TEST_F(ViewCliTest, ShouldRefuseToRevertWithoutAPreviousVersion) {
  MakeVersions("solo", 1);
  const RunResult r = View("revert", {"solo"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: solo: no previous version to revert to\n");
  EXPECT_EQ(r.out, "");
}

// ----------------------------------------------------------------------------- bad input

TEST_F(ViewCliTest, ShouldRejectBadUsageWithExitTwo) {
  MakeClicks();
  MakeWindows();
  const std::vector<std::vector<std::string>> commands = {
      {"view"},
      {"view", "frob"},
      {"view", "--bogus"},
      {"view", "ls", "--bogus"},
      {"view", "ls", "extra"},
      {"view", "ls", "--format", "xml"},
      {"view", "ls", "--ns"},
      {"view", "info"},
      {"view", "info", "x@abc"},
      {"view", "info", "x@0"},
      {"view", "info", "x@4294967296"},
      {"view", "info", "x@"},
      {"view", "info", "a/b"},
      {"view", "info", ".hidden"},
      {"view", "info", "clicks", "extra"},
      {"view", "get", "clicks"},
      {"view", "get", "clicks", "abc"},
      {"view", "get", "clicks", "-1"},
      {"view", "get", "clicks", "18446744073709551616"},
      {"view", "get", "windows", "7", "--window", "yesterday"},
      {"view", "get", "windows", "7", "--window"},
      {"view", "scan", "clicks", "--limit", "x"},
      {"view", "scan", "clicks", "--limit", "1", "--limit", "2"},
      {"view", "top", "clicks", "--format", "csv"},
      {"view", "watch", "clicks", "--interval", "0"},
      {"view", "watch", "clicks", "--count", "0"},
      {"view", "flip", "clicks"},
      {"view", "flip", "clicks", "abc"},
      {"view", "flip", "clicks", "2", "3"},
      {"view", "revert"},
      {"view", "retire", "clicks"},
      {"view", "retire", "clicks@x"},
      {"view", "retire", "clicks@1", "extra"},
      {"view", "drop"},
      {"view", "drop", "bad name"},
  };
  for (std::vector<std::string> args : commands) {
    if (args.size() >= 2) {
      args.insert(args.begin() + 2, ns_path_);
      args.insert(args.begin() + 2, "--ns");
    }
    const RunResult r = Kappa(args);
    EXPECT_EQ(r.status, 2) << Joined(args) << "\n" << r.err;
    ExpectNoOutputAndOneErrorLine(r, Joined(args));
  }
  // The clicks view is still there: nothing was changed.
  EXPECT_EQ(Describe("clicks").versions.size(), 1u);

  EXPECT_EQ(View("info", {"x@abc"}).err,
            "kappa: view info: bad view version in 'x@abc': versions are whole numbers from 1 to "
            "4294967295 (see 'kappa view info --help')\n");
  EXPECT_EQ(View("get", {"clicks", "abc"}).err,
            "kappa: view get: KEY 'abc' is not a whole number (clicks has u64 keys) (see 'kappa "
            "view get --help')\n");
  EXPECT_EQ(View("scan", {"clicks", "--bogus"}).err,
            "kappa: view scan: unknown flag '--bogus' (see 'kappa view scan --help')\n");
  EXPECT_EQ(Kappa({"view", "ls", "--ns"}).err,
            "kappa: view ls: flag --ns needs a value (see 'kappa view ls --help')\n");
}

TEST_F(ViewCliTest, ShouldRejectATooLongBytesKeyAsUsage) {
  MakePages();
  const RunResult r = View("get", {"pages", "this-key-is-longer-than-16"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(
      r.err,
      "kappa: view get: KEY 'this-key-is-longer-than-16' has 26 bytes; the keys of pages have "
      "at most 16 (see 'kappa view get --help')\n");
}

TEST_F(ViewCliTest, ShouldFailWithOneLineForAMissingNamespaceOrView) {
  MakeClicks();
  const std::string missing = root_ + "/missing";
  for (const char* sub :
       {"ls", "info", "get", "scan", "top", "watch", "flip", "revert", "retire", "drop"}) {
    std::vector<std::string> args = {"view", sub, "--ns", missing};
    const std::string s = sub;
    if (s == "info" || s == "scan" || s == "top" || s == "watch" || s == "revert" || s == "drop")
      args.push_back("clicks");
    if (s == "get" || s == "flip" || s == "retire") args.insert(args.end(), {"clicks", "1"});
    const RunResult r = Kappa(args);
    EXPECT_EQ(r.status, 1) << sub;
    ExpectNoOutputAndOneErrorLine(r, sub);
    EXPECT_EQ(r.err, "kappa: " + missing + ": no such view namespace\n") << sub;
  }
  // Reading never creates a namespace.
  EXPECT_FALSE(std::filesystem::exists(missing));

  for (const std::string ref : {"nope", "clicks@2"}) {
    for (const char* sub : {"info", "scan", "top", "watch"}) {
      const RunResult r = View(sub, {ref});
      EXPECT_EQ(r.status, 1) << sub << " " << ref;
      EXPECT_EQ(r.err, "kappa: " + ref + ": no such view in " + ns_path_ + "\n") << sub;
      EXPECT_EQ(r.out, "");
    }
  }
  const RunResult flip = View("flip", {"nope", "1"});
  EXPECT_EQ(flip.status, 1);
  EXPECT_EQ(flip.err, "kappa: nope: no such view in " + ns_path_ + "\n");
}

TEST_F(ViewCliTest, ShouldFailForADirectoryOrFileThatIsNotANamespace) {
  const std::string plain_dir = root_ + "/plain";
  ::mkdir(plain_dir.c_str(), 0700);
  RunResult r = Kappa({"view", "ls", "--ns", plain_dir});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: " + plain_dir + ": not a view namespace (no registry)\n");

  const std::string file = root_ + "/file";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("not a directory\n", f);
  std::fclose(f);
  r = Kappa({"view", "info", "x", "--ns", file});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: " + file + ": is not a directory\n");

  // A registry that is not one.
  const std::string bad_registry = root_ + "/badreg";
  ::mkdir(bad_registry.c_str(), 0700);
  f = std::fopen((bad_registry + "/registry").c_str(), "w");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 1000; ++i) std::fputs("garbage garbage garbage garbage garbage\n", f);
  std::fclose(f);
  for (const char* sub : {"ls", "info"}) {
    std::vector<std::string> args = {"view", sub, "--ns", bad_registry};
    if (std::string(sub) == "info") args.push_back("x");
    r = Kappa(args);
    EXPECT_EQ(r.status, 1) << sub;
    EXPECT_EQ(r.err, "kappa: " + bad_registry + "/registry: bad magic: not a kappa view registry\n")
        << sub;
  }
}

TEST_F(ViewCliTest, ShouldFailForAViewFileThatIsNotAView) {
  MakeVersions("junk", 1);
  const std::string file = ns_path_ + "/junk@1.0.view";
  ASSERT_TRUE(std::filesystem::exists(file));
  std::FILE* f = std::fopen(file.c_str(), "r+");
  ASSERT_NE(f, nullptr);
  for (int i = 0; i < 64; ++i) std::fputs("this is not a view file at all\n", f);
  std::fclose(f);
  for (const char* sub : {"info", "scan", "watch"}) {
    const RunResult r = View(sub, {"junk"});
    EXPECT_EQ(r.status, 1) << sub;
    EXPECT_EQ(r.err, "kappa: " + file + ": bad magic: not a kappa view\n") << sub;
    EXPECT_EQ(r.out, "");
  }
  const RunResult get = View("get", {"junk", "1"});
  EXPECT_EQ(get.status, 1);
  ExpectNoOutputAndOneErrorLine(get, "get junk");
}

TEST_F(ViewCliTest, ShouldFailForTheWrongKindOfView) {
  MakeClicks();
  MakeEvents();
  MakeLeaders();
  RunResult r = View("top", {"clicks"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "kappa: clicks is a keyed view, not a top-K view; use 'kappa view scan clicks'\n");
  EXPECT_EQ(r.out, "");
  r = View("top", {"events@1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "kappa: events@1 is a list view, not a top-K view; use 'kappa view scan events@1'\n");
  r = View("get", {"events", "1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: events is a list view: its rows have no keys; use 'kappa view scan'\n");
  r = View("get", {"clicks", "42", "--window", "0"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: --window: clicks is a keyed view, not a windowed one\n");
  r = View("get", {"leaders", "1", "--window", "0"});
  EXPECT_EQ(r.status, 1);
  ExpectNoOutputAndOneErrorLine(r, "get leaders --window");
}

TEST_F(ViewCliTest, ShouldFailWithOneLineForAMissingKey) {
  MakeClicks();
  const RunResult r = View("get", {"clicks", "999"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: clicks: key 999 not found\n");
  EXPECT_EQ(r.out, "");
  const RunResult json = View("get", {"clicks", "999", "--format", "jsonl"});
  EXPECT_EQ(json.status, 1);
  EXPECT_EQ(json.out, "");
}

// Leaves the slot of u64 `key` in view file `file` of namespace `ns_path` with an odd seq, as a
// writer that died mid-update would. False if the key is not found.
bool TearSlot(const std::string& ns_path, const std::string& file, std::uint64_t key) {
  int dir = -1;
  if (!serving::detail::OpenDirectory(ns_path, &dir).ok()) return false;
  serving::detail::Mapping map;
  serving::detail::ViewShape shape;
  const serving::Status s = serving::detail::MapView(dir, file, ns_path + "/" + file,
                                                     /*writable=*/true, &map, &shape);
  ::close(dir);
  if (!s.ok()) return false;
  for (std::uint64_t i = 0; i < shape.capacity; ++i) {
    std::byte* slot = map.data() + shape.slots_offset + i * shape.slot.size;
    auto* w = reinterpret_cast<std::uint64_t*>(slot);
    if (serving::MetaState(w[1]) == serving::kSlotLive && w[shape.slot.key_at / 8] == key) {
      serving::detail::StoreRelease(w[0], w[0] | 1);
      return true;
    }
  }
  return false;
}

TEST_F(ViewCliTest, ShouldReportEntriesLeftMidUpdateByADeadWriter) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto ns = Namespace::Open(ns_path_);
    if (!ns.ok()) ::_exit(1);
    KeyedTableOptions o;
    o.schema = MakeSchema({Field::I64("v")});
    auto w = KeyedTableWriter::Create(**ns, "torn", 1, o);
    if (!w.ok()) ::_exit(2);
    std::vector<std::byte> v(8);
    for (std::uint64_t key = 1; key <= 3; ++key) {
      (*w)->schema().SetI64(v, 0, static_cast<std::int64_t>(key));
      if ((*w)->Upsert(key, v, key) != WriteResult::kOk) ::_exit(3);
    }
    if (!TearSlot(ns_path_, "torn@1.0.view", 2)) ::_exit(4);
    ::kill(::getpid(), SIGKILL);  // dies as the writer, holding the view
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  const RunResult scan = View("scan", {"torn", "--format", "jsonl"});
  EXPECT_EQ(scan.status, 1);
  EXPECT_EQ(scan.err,
            "kappa: torn: some entries were skipped: they stayed mid-update (the writer died or "
            "stalled)\n");
  EXPECT_EQ(Lines(scan.out).size(), 2u) << scan.out;
  EXPECT_TRUE(Contains(scan.out, "{\"key\":1,\"v\":1,\"offset\":1}\n")) << scan.out;
  EXPECT_TRUE(Contains(scan.out, "{\"key\":3,\"v\":3,\"offset\":3}\n")) << scan.out;

  const RunResult torn = View("get", {"torn", "2"});
  EXPECT_EQ(torn.status, 1);
  EXPECT_EQ(torn.err, "kappa: torn: key 2: stale (the writer died or stalled mid-update)\n");
  EXPECT_EQ(torn.out, "");
  EXPECT_EQ(View("get", {"torn", "3", "--format", "jsonl"}).out,
            "{\"key\":3,\"v\":3,\"offset\":3}\n");

  const RunResult watch = View("watch", {"torn", "--count", "1"});
  EXPECT_EQ(watch.status, 0) << watch.err;
  EXPECT_TRUE(Contains(watch.out, "\nwriter " + std::to_string(child) + " (not running)   "))
      << watch.out;
  EXPECT_TRUE(watch.out.ends_with("\n(some entries were skipped: they stayed mid-update)\n"))
      << watch.out;
}

TEST_F(ViewCliTest, ShouldFailForARetiredVersion) {
  MakeVersions("old", 3);
  ASSERT_TRUE(ns_->Flip("old", 2).ok());
  ASSERT_TRUE(ns_->Flip("old", 3).ok());
  // Version 1 is neither current nor previous: retire it, then read it by version.
  const RunResult retired = View("retire", {"old@1"});
  ASSERT_EQ(retired.status, 0) << retired.err;
  const RunResult r = View("scan", {"old@1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: old@1: no such view in " + ns_path_ + "\n");
}

TEST_F(ViewCliTest, ShouldStopWatchingAVersionRetiredUnderIt) {
  MakeVersions("old", 3);
  ASSERT_TRUE(ns_->Flip("old", 2).ok());
  ASSERT_TRUE(ns_->Flip("old", 3).ok());
  KappaProcess p({"view", "watch", "old@1", "--ns", ns_path_, "--interval", "50"}, ViewOptions());
  ASSERT_TRUE(p.WaitForOutput("\n  1  100       1\n"));
  ASSERT_TRUE(ns_->Retire("old", 1).ok());
  const RunResult r = p.Finish();
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kappa: old@1: gone (the view was retired or dropped)\n");
}

}  // namespace
}  // namespace kappa::tools
