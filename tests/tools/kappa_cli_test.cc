// Runs the built `kappa` binary (KAPPA_BINARY) and checks its output and exit statuses.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "memlog/archive.h"
#include "memlog/format.h"
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

// Runs `kappa args...` to the end, with `input` on its standard input and, if `data_dir` is not
// empty, $KAPPA_DATA_DIR set to it.
RunResult Kappa(const std::vector<std::string>& args, const std::string& input = "",
                const std::string& data_dir = "") {
  KappaOptions options{.input = input};
  if (!data_dir.empty()) options.env.push_back("KAPPA_DATA_DIR=" + data_dir);
  return KappaProcess(args, options).Finish();
}

// Payload-only text of a text-format record line: what follows " payload=".
std::string TextPayload(const std::string& line) {
  const std::size_t at = line.find(" payload=");
  return at == std::string::npos ? "<no payload in: " + line + ">" : line.substr(at + 9);
}

class KappaCliTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : files_) ::unlink(path.c_str());
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) ::rmdir(it->c_str());
  }

  // A unique path under /dev/shm, removed after the test.
  std::string NewPath(const std::string& what) {
    static std::atomic<int> counter{0};
    std::string path = "/dev/shm/kappa-cli-test-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter.fetch_add(1)) + "-" + what;
    ::unlink(path.c_str());
    files_.push_back(path);
    return path;
  }
  // A unique directory under /dev/shm, removed after the test (with the files named in it
  // through Track()).
  std::string NewDir() {
    std::string dir = NewPath("dir");
    files_.pop_back();
    ::mkdir(dir.c_str(), 0700);
    dirs_.push_back(dir);
    return dir;
  }
  void Track(const std::string& path) { files_.push_back(path); }

  // Creates a 1 MiB log and appends `lines` to it; returns its path.
  std::string LogWith(const std::string& lines, const std::vector<std::string>& append_flags = {}) {
    const std::string path = NewPath("log");
    const RunResult created = Kappa({"log", "create", path, "--capacity", "1M"});
    EXPECT_EQ(created.status, 0) << created.err;
    if (!lines.empty()) {
      std::vector<std::string> args = {"log", "append", path};
      args.insert(args.end(), append_flags.begin(), append_flags.end());
      const RunResult appended = Kappa(args, lines);
      EXPECT_EQ(appended.status, 0) << appended.err;
    }
    return path;
  }

 private:
  std::vector<std::string> files_;
  std::vector<std::string> dirs_;
};

TEST_F(KappaCliTest, ShouldPrintUsageForHelpAndExitZero) {
  const std::vector<std::vector<std::string>> commands = {
      {"--help"},
      {"-h"},
      {"log", "--help"},
      {"log", "create", "--help"},
      {"log", "info", "--help"},
      {"log", "append", "--help"},
      {"log", "tail", "--help"},
      {"log", "dump", "--help"},
      {"log", "verify", "--help"},
      {"demo", "--help"},
      {"log", "info", "whatever", "--bogus", "--help"}};
  for (const auto& args : commands) {
    const RunResult r = Kappa(args);
    EXPECT_EQ(r.status, 0) << args.back();
    EXPECT_TRUE(r.out.starts_with("Usage: kappa")) << r.out;
    EXPECT_EQ(r.err, "");
  }
}

// The command lists come from the command table: every command the top-level usage lists (each
// subcommand of a group too) answers --help with its own usage.
TEST_F(KappaCliTest, ShouldPrintItsVersion) {
  const RunResult r = Kappa({"--version"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with(std::string("kappa ") + KAPPA_VERSION + " (")) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(KappaCliTest, ShouldListEveryCommandOnceAndGiveEachItsOwnHelp) {
  const RunResult top = Kappa({"--help"});
  ASSERT_EQ(top.status, 0);
  std::vector<std::vector<std::string>> listed;
  std::istringstream lines(top.out.substr(top.out.find("Commands:\n") + 10));
  for (std::string line; std::getline(lines, line) && !line.empty();) {
    if (!line.starts_with("  ") || line[2] == ' ') continue;  // a wrapped summary
    std::istringstream words(line.substr(2));
    std::string name, subs;
    words >> name >> subs;
    if (subs.find('|') == std::string::npos) {
      listed.push_back({name});
      continue;
    }
    for (std::size_t at = 0; at <= subs.size();) {
      const std::size_t bar = std::min(subs.find('|', at), subs.size());
      listed.push_back({name, subs.substr(at, bar - at)});
      at = bar + 1;
    }
  }
  ASSERT_GE(listed.size(), 24u) << top.out;
  std::set<std::vector<std::string>> unique(listed.begin(), listed.end());
  EXPECT_EQ(unique.size(), listed.size()) << top.out;
  for (std::vector<std::string> command : listed) {
    std::string name;
    for (const std::string& w : command) name += (name.empty() ? "" : " ") + w;
    command.push_back("--help");
    const RunResult r = Kappa(command);
    EXPECT_EQ(r.status, 0) << name;
    EXPECT_TRUE(r.out.starts_with("Usage: kappa " + name)) << name << ": " << r.out;
  }
  // A group lists its subcommands the same way.
  const RunResult log = Kappa({"log", "help"});
  EXPECT_EQ(log.status, 0);
  for (const auto& command : listed) {
    if (command.size() == 2 && command[0] == "log") {
      EXPECT_NE(log.out.find("\n  " + command[1] + " "), std::string::npos) << command[1];
    }
  }
}

TEST_F(KappaCliTest, ShouldCreateLogAndDescribeItAsTableAndJson) {
  const std::string path = NewPath("log");
  const RunResult created = Kappa({"log", "create", path, "--capacity", "1M", "--policy",
                                   "overwrite", "--max-payload=1K", "--unblock-timeout-ms", "250"});
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_TRUE(created.out.starts_with("created " + path + ": capacity 1 MiB, policy overwrite"))
      << created.out;

  const RunResult table = Kappa({"log", "info", path});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_TRUE(Contains(table.out, "path               " + path + "\n")) << table.out;
  EXPECT_TRUE(Contains(table.out, "capacity           1048576 (1 MiB)\n")) << table.out;
  EXPECT_TRUE(Contains(table.out, "policy             overwrite\n")) << table.out;
  EXPECT_TRUE(Contains(table.out, "max payload        1024 (1 KiB)\n")) << table.out;
  EXPECT_TRUE(Contains(table.out, "unblock timeout    250 ms\n")) << table.out;
  EXPECT_TRUE(Contains(table.out, "created            20")) << table.out;

  const RunResult json = Kappa({"log", "info", path, "--format", "json"});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_TRUE(json.out.starts_with("{\"path\":\"" + path +
                                   "\",\"version\":2,\"capacity\":1048576,"
                                   "\"policy\":\"overwrite\",\"durability\":\"none\","))
      << json.out;
  for (const char* field :
       {"\"max_payload\":1024,", "\"unblock_timeout_ms\":250,", "\"earliest_offset\":0,",
        "\"latest_offset\":0,", "\"records_appended\":0,", "\"live_producers\":0,"}) {
    EXPECT_TRUE(Contains(json.out, field)) << field << " in " << json.out;
  }
  EXPECT_TRUE(json.out.ends_with("\"cursors\":[]}\n")) << json.out;
}

TEST_F(KappaCliTest, ShouldKeepCreationDurabilityInReadOnlyInfo) {
  const std::string path = NewPath("log");
  ASSERT_EQ(Kappa({"log", "create", path, "--capacity=64K", "--durability", "interval",
                   "--sync-interval-ms", "20"})
                .status,
            0);
  const RunResult json = Kappa({"log", "info", path, "--format=json"});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_TRUE(Contains(json.out, "\"capacity\":65536,")) << json.out;
  EXPECT_TRUE(Contains(json.out, "\"durability\":\"interval\",\"sync_interval_ms\":20,"))
      << json.out;
}

TEST_F(KappaCliTest, ShouldResolveBareNamesInTheDataDirectory) {
  const std::string dir = NewDir();
  Track(dir + "/orders");
  const RunResult created = Kappa({"log", "create", "orders", "--capacity", "64K"}, "", dir);
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_TRUE(created.out.starts_with("created " + dir + "/orders:")) << created.out;
  struct stat st;
  EXPECT_EQ(::stat((dir + "/orders").c_str(), &st), 0);
  EXPECT_EQ(Kappa({"log", "append", "orders"}, "x\n", dir).status, 0);
  const RunResult dump = Kappa({"log", "dump", "orders"}, "", dir);
  ASSERT_EQ(dump.status, 0) << dump.err;
  EXPECT_EQ(Lines(dump.out).size(), 1u);
}

TEST_F(KappaCliTest, ShouldAppendLinesAndDumpThemAsText) {
  const std::string path = NewPath("log");
  ASSERT_EQ(Kappa({"log", "create", path, "--capacity", "1M"}).status, 0);
  const RunResult appended =
      Kappa({"log", "append", path}, std::string("alpha\nback\\slash\n\x01\xff\nlast"));
  ASSERT_EQ(appended.status, 0) << appended.err;
  EXPECT_EQ(appended.err, "appended 4 records\n");

  const RunResult dump = Kappa({"log", "dump", path});
  ASSERT_EQ(dump.status, 0) << dump.err;
  const std::vector<std::string> lines = Lines(dump.out);
  ASSERT_EQ(lines.size(), 4u) << dump.out;
  // Frames: 24-byte header plus payload, padded to 8 bytes.
  EXPECT_TRUE(lines[0].starts_with("offset=0 type=0 ts=20")) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("offset=32 type=0 ts=")) << lines[1];
  EXPECT_TRUE(lines[2].starts_with("offset=72 type=0 ts=")) << lines[2];
  EXPECT_TRUE(lines[3].starts_with("offset=104 type=0 ts=")) << lines[3];
  EXPECT_EQ(TextPayload(lines[0]), "alpha");
  EXPECT_EQ(TextPayload(lines[1]), "back\\\\slash");
  EXPECT_EQ(TextPayload(lines[2]), "\\x01\\xff");
  EXPECT_EQ(TextPayload(lines[3]), "last");
  // ts=YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ
  const std::string ts = lines[0].substr(lines[0].find("ts=") + 3, 30);
  EXPECT_EQ(ts.size(), 30u);
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts[29], 'Z');

  const RunResult from = Kappa({"log", "dump", path, "--from", "offset:72", "--count", "1"});
  ASSERT_EQ(from.status, 0) << from.err;
  ASSERT_EQ(Lines(from.out).size(), 1u) << from.out;
  EXPECT_TRUE(from.out.starts_with("offset=72 ")) << from.out;
}

TEST_F(KappaCliTest, ShouldDumpExactJsonLines) {
  const std::string payload = std::string("he said \"hi\"\t\xff ") + "\xc3\xa9";  // é in UTF-8
  const std::string path = LogWith(payload + "\n", {"--type", "7"});
  const auto before = std::chrono::system_clock::now();
  const RunResult dump = Kappa({"log", "dump", path, "--format=jsonl"});
  ASSERT_EQ(dump.status, 0) << dump.err;
  const std::vector<std::string> lines = Lines(dump.out);
  ASSERT_EQ(lines.size(), 1u) << dump.out;
  const std::string prefix = R"({"offset":0,"type":7,"timestamp_ns":)";
  // Not UTF-8 (the \xff): in base64, every byte kept.
  const std::string suffix = R"(,"payload_base64":"aGUgc2FpZCAiaGkiCf8gw6k="})";
  const std::string& line = lines[0];
  ASSERT_TRUE(line.starts_with(prefix)) << line;
  ASSERT_TRUE(line.ends_with(suffix)) << line;
  const std::string ts = line.substr(prefix.size(), line.size() - prefix.size() - suffix.size());
  ASSERT_FALSE(ts.empty());
  ASSERT_TRUE(std::all_of(ts.begin(), ts.end(), [](char c) { return c >= '0' && c <= '9'; })) << ts;
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(before.time_since_epoch()).count();
  EXPECT_LT(std::llabs(std::stoll(ts) - now_ns), 120'000'000'000LL);

  const RunResult hex = Kappa({"log", "dump", path, "--format=jsonl", "--bytes", "hex"});
  ASSERT_EQ(hex.status, 0) << hex.err;
  EXPECT_TRUE(hex.out.ends_with(R"(,"payload_hex":"68652073616964202268692209ff20c3a9"})"
                                "\n"))
      << hex.out;
  // UTF-8 text, control characters and all, is a JSON string.
  const std::string text = LogWith("tab\there \xc3\xa9\n");
  const RunResult json = Kappa({"log", "dump", text, "--format=jsonl"});
  EXPECT_TRUE(json.out.ends_with(R"(,"payload":"tab\u0009here )"
                                 "\xc3\xa9\"}\n"))
      << json.out;
}

TEST_F(KappaCliTest, ShouldAppendInAtomicBatches) {
  const std::string path = LogWith("1\n2\n3\n4\n5\n6\n7\n", {"--batch", "3"});
  const RunResult dump = Kappa({"log", "dump", path});
  ASSERT_EQ(dump.status, 0) << dump.err;
  const std::vector<std::string> lines = Lines(dump.out);
  ASSERT_EQ(lines.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(TextPayload(lines[i]), std::to_string(i + 1));
  const RunResult json = Kappa({"log", "info", path, "--format", "json"});
  EXPECT_TRUE(Contains(json.out, "\"records_appended\":7,")) << json.out;
}

TEST_F(KappaCliTest, ShouldTailFromEarliestAndStopAfterCount) {
  const std::string path = LogWith("r0\nr1\nr2\nr3\nr4\n");
  const RunResult tail = Kappa({"log", "tail", path, "--from", "earliest", "--count", "3"});
  ASSERT_EQ(tail.status, 0) << tail.err;
  const std::vector<std::string> lines = Lines(tail.out);
  ASSERT_EQ(lines.size(), 3u) << tail.out;
  EXPECT_EQ(TextPayload(lines[0]), "r0");
  EXPECT_EQ(TextPayload(lines[2]), "r2");

  const RunResult jsonl =
      Kappa({"log", "tail", path, "--from=earliest", "--count=1", "--format", "jsonl"});
  ASSERT_EQ(jsonl.status, 0) << jsonl.err;
  EXPECT_TRUE(jsonl.out.starts_with("{\"offset\":0,\"type\":0,\"timestamp_ns\":")) << jsonl.out;
  EXPECT_TRUE(jsonl.out.ends_with(",\"payload\":\"r0\"}\n")) << jsonl.out;
}

TEST_F(KappaCliTest, ShouldResumeANamedCursorWhereTheLastTailStopped) {
  const std::string path = LogWith("r0\nr1\nr2\nr3\nr4\n");
  const RunResult first =
      Kappa({"log", "tail", path, "--cursor", "c", "--from", "earliest", "--count", "2"});
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(Lines(first.out).size(), 2u);
  EXPECT_EQ(TextPayload(Lines(first.out)[1]), "r1");

  const RunResult second = Kappa({"log", "tail", path, "--cursor", "c", "--count", "2"});
  ASSERT_EQ(second.status, 0) << second.err;
  ASSERT_EQ(Lines(second.out).size(), 2u) << second.out;
  EXPECT_EQ(TextPayload(Lines(second.out)[0]), "r2");
  EXPECT_EQ(TextPayload(Lines(second.out)[1]), "r3");

  // Each record takes a 32-byte frame: the cursor is at r4 (offset 128), one frame behind.
  const RunResult info = Kappa({"log", "info", path, "--format", "json"});
  EXPECT_TRUE(Contains(info.out, "\"cursors\":[{\"name\":\"c\",\"position\":128,\"lag\":32,"))
      << info.out;
  const RunResult table = Kappa({"log", "info", path});
  EXPECT_TRUE(Contains(table.out, "cursors            1\n")) << table.out;
}

TEST_F(KappaCliTest, ShouldTailRecordsAppendedWhileItRuns) {
  const std::string path = LogWith("r0\nr1\n");  // two 32-byte frames: latest offset 64
  KappaProcess tail({"log", "tail", path, "--from", "offset:64", "--count", "2"});
  const RunResult appended = Kappa({"log", "append", path}, "live0\nlive1\n");
  ASSERT_EQ(appended.status, 0) << appended.err;
  const RunResult r = tail.Finish(std::chrono::seconds(30));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(TextPayload(lines[0]), "live0");
  EXPECT_EQ(TextPayload(lines[1]), "live1");
}

TEST_F(KappaCliTest, ShouldStopTailCleanlyOnSigterm) {
  const std::string path = LogWith("r0\n");
  KappaProcess tail({"log", "tail", path, "--cursor", "watcher", "--from", "earliest"});
  // The cursor appears once the handlers are installed and the reader is open.
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    started =
        Contains(Kappa({"log", "info", path, "--format", "json"}).out, "\"name\":\"watcher\"");
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(started);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  tail.Signal(SIGTERM);
  const RunResult r = tail.Finish(std::chrono::seconds(30));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(TextPayload(Lines(r.out).at(0)), "r0");
  // It committed what it printed: the cursor has no lag.
  EXPECT_TRUE(Contains(Kappa({"log", "info", path, "--format", "json"}).out,
                       "\"name\":\"watcher\",\"position\":32,\"lag\":0,"));
}

// A log truncated under a tail (only its owner can do that) stops it with an error that says
// so, not a SIGBUS.
TEST_F(KappaCliTest, ShouldStopTailWithAnErrorWhenTheLogIsTruncatedUnderIt) {
  const std::string path = LogWith("r0\n");
  KappaProcess tail({"log", "tail", path, "--from", "earliest"});
  ASSERT_TRUE(tail.WaitForOutput("r0"));
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  const RunResult r = tail.Finish(std::chrono::seconds(60));
  EXPECT_EQ(r.status, 1) << r.err;  // not 128 + SIGBUS
  EXPECT_TRUE(Contains(r.err, path + ": the file was truncated under the reader (now 0 bytes"))
      << r.err;
}

TEST_F(KappaCliTest, ShouldVerifyAnIntactLog) {
  const std::string path = LogWith("a\nb\nc\n");
  const RunResult r = Kappa({"log", "verify", path});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok: 3 records, 96 bytes checked\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(KappaCliTest, ShouldReportACorruptRecordInVerifyAndDump) {
  const std::string path = LogWith("first\nsecond\nthird\n");
  {
    // The ring starts after the header; the first record's payload after its 24-byte header.
    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const off_t at = memlog::kHeaderSize + memlog::kRecordHeaderSize;
    char byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, at), 1);
    EXPECT_EQ(byte, 'f');
    byte = static_cast<char>(byte ^ 0x20);
    ASSERT_EQ(::pwrite(fd, &byte, 1, at), 1);
    ::close(fd);
  }
  const RunResult verify = Kappa({"log", "verify", path});
  EXPECT_EQ(verify.status, 1);
  EXPECT_EQ(verify.out, "");
  ExpectOneErrorLine(verify);
  EXPECT_TRUE(Contains(verify.err, "corrupt at offset 0: ")) << verify.err;
  EXPECT_TRUE(Contains(verify.err, path)) << verify.err;

  const RunResult dump = Kappa({"log", "dump", path});
  EXPECT_EQ(dump.status, 1);
  ExpectOneErrorLine(dump);
  EXPECT_TRUE(Contains(dump.err, "offset 0")) << dump.err;
  const std::vector<std::string> lines = Lines(dump.out);
  ASSERT_EQ(lines.size(), 2u) << dump.out;
  EXPECT_EQ(TextPayload(lines[0]), "second");
}

TEST_F(KappaCliTest, ShouldRejectBadUsageWithExitTwo) {
  const std::string path = LogWith("");
  Track(path + ".new");  // never created, unless a bad flag were accepted
  const std::vector<std::vector<std::string>> commands = {
      {},
      {"frobnicate"},
      {"--bogus"},
      {"log"},
      {"log", "frob", path},
      {"log", "info", path, "--bogus"},
      {"log", "info"},
      {"log", "info", path, "extra"},
      {"log", "info", path, "--format", "xml"},
      {"log", "create", path + ".new", "--capacity", "12Q"},
      {"log", "create", path + ".new", "--capacity", "1000"},
      {"log", "create", path + ".new", "--capacity", "64K", "--max-payload", "1M"},
      {"log", "append", path, "--type", "70000"},
      {"log", "append", path, "--batch"},
      {"log", "tail", path, "--count", "-1"},
      {"log", "tail", path, "--count", "1", "--count", "2"},
      {"log", "dump", path, "--from", "yesterday"},
      {"log", "dump", path, "--from", "time:2024-13-01"},
      {"log", "dump", path, "--count", "abc"},
      {"demo", "--payload", "8"},
      {"demo", "--producers", "0"},
  };
  for (const auto& args : commands) {
    const RunResult r = Kappa(args);
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    EXPECT_EQ(r.status, 2) << joined << "\n" << r.err;
    ExpectOneErrorLine(r);
    EXPECT_EQ(r.out, "") << joined;
  }
  const RunResult unknown = Kappa({"log", "info", path, "--bogus"});
  EXPECT_TRUE(Contains(unknown.err, "unknown flag '--bogus'")) << unknown.err;
}

TEST_F(KappaCliTest, ShouldFailWithOneLineForAMissingFile) {
  const std::string path = NewPath("missing");
  for (const char* sub : {"info", "dump", "verify", "append", "tail"}) {
    const RunResult r = Kappa({"log", sub, path});
    EXPECT_EQ(r.status, 1) << sub;
    ExpectOneErrorLine(r);
    EXPECT_EQ(r.err, "kappa: " + path + ": no such log file\n") << sub;
  }
}

TEST_F(KappaCliTest, ShouldRejectAFileThatIsNotALog) {
  const std::string path = NewPath("zeros");
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    const std::string zeros(40000, '\0');
    ASSERT_EQ(::write(fd, zeros.data(), zeros.size()), static_cast<ssize_t>(zeros.size()));
    ::close(fd);
  }
  for (const char* sub : {"info", "dump", "verify"}) {
    const RunResult r = Kappa({"log", sub, path});
    EXPECT_EQ(r.status, 1) << sub;
    ExpectOneErrorLine(r);
    EXPECT_TRUE(Contains(r.err, "not a kappa log") || Contains(r.err, "bad magic")) << r.err;
  }
}

TEST_F(KappaCliTest, ShouldRefuseToCreateOverAnExistingFile) {
  const std::string path = LogWith("keep me\n");
  const RunResult r = Kappa({"log", "create", path});
  EXPECT_EQ(r.status, 1);
  ExpectOneErrorLine(r);
  EXPECT_TRUE(Contains(r.err, "already exists")) << r.err;
  EXPECT_EQ(TextPayload(Kappa({"log", "dump", path}).out), "keep me\n");
}

TEST_F(KappaCliTest, ShouldRejectALineOverTheMaxPayload) {
  const std::string path = NewPath("log");
  ASSERT_EQ(Kappa({"log", "create", path, "--capacity", "64K", "--max-payload", "8"}).status, 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"log", "append", path},
        std::vector<std::string>{"log", "append", path, "--batch", "4"}}) {
    const RunResult r = Kappa(args, "short\nthis line is too long\n");
    EXPECT_EQ(r.status, 1);
    ExpectOneErrorLine(r);
    EXPECT_TRUE(
        Contains(r.err, "line 2: a record of 21 bytes, more than the log's max payload of 8 bytes"))
        << r.err;
  }
}

TEST_F(KappaCliTest, ShouldDescribeAReadOnlyFile) {
  const std::string path = LogWith("x\n");
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  const RunResult info = Kappa({"log", "info", path});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_TRUE(Contains(info.out, "records appended   1\n")) << info.out;
  EXPECT_EQ(Kappa({"log", "verify", path}).status, 0);
}

TEST_F(KappaCliTest, ShouldRunTheDemoAndCleanUp) {
  const std::string dir = NewDir();
  const RunResult r =
      Kappa({"demo", "--producers", "2", "--records", "20000", "--capacity", "1M"}, "", dir);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(
      r.out.starts_with("2 producer processes append to one memory-mapped ring log "
                        "while a reader process tails it"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "records read     40000 of 40000\n")) << r.out;
  EXPECT_TRUE(Contains(r.out, "p99 ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "p99.9 ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "lost 0   duplicated 0   out of order 0")) << r.out;
  EXPECT_TRUE(Contains(r.out, "records appended   40000\n")) << r.out;
  EXPECT_EQ(r.err, "");
  // The temporary log is gone, so the directory can be removed.
  EXPECT_EQ(::rmdir(dir.c_str()), 0) << std::strerror(errno);
}

// The history behind the ring: archived by 'kappa log archive', shown by info, read by dump and
// verify from the archive and the ring, and still there after the ring file is lost.
TEST_F(KappaCliTest, ShouldKeepTheHistoryInAnArchiveAndMakeALostRingAgain) {
  kappa::testing::TempDir archive;
  const std::string path = NewPath("log");
  const RunResult created =
      Kappa({"log", "create", path, "--capacity", "64K", "--archive", archive.str(),
             "--segment-size", "16K", "--flush-interval", "10ms"});
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_TRUE(Contains(created.out, "run 'kappa log archive")) << created.out;
  std::string expected;
  for (int chunk = 0; chunk < 6; ++chunk) {
    std::string lines;
    for (int i = 0; i < 1000; ++i) lines += "record " + std::to_string(chunk * 1000 + i) + "\n";
    expected += lines;
    const RunResult appended = Kappa({"log", "append", path, "--batch", "50"}, lines);
    ASSERT_EQ(appended.status, 0) << appended.err;
    const RunResult archived = Kappa({"log", "archive", path, "--once"});
    ASSERT_EQ(archived.status, 0) << archived.err;
    EXPECT_TRUE(Contains(archived.err, "archived up to offset")) << archived.err;
  }
  const RunResult info = Kappa({"log", "info", path, "--format", "json"});
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_TRUE(Contains(info.out, "\"archive\":{\"directory\":")) << info.out;
  EXPECT_TRUE(Contains(info.out, "\"lag_bytes\":0,")) << info.out;
  EXPECT_FALSE(Contains(info.out, "\"segments\":0,")) << info.out;
  auto payloads = [&] {
    const RunResult dump = Kappa({"log", "dump", path});
    EXPECT_EQ(dump.status, 0) << dump.err;
    std::string out;
    for (const std::string& line : Lines(dump.out)) out += TextPayload(line) + "\n";
    return out;
  };
  EXPECT_EQ(payloads(), expected);  // 6,000 records through a 64 KiB ring
  const RunResult verified = Kappa({"log", "verify", path});
  ASSERT_EQ(verified.status, 0) << verified.err;
  EXPECT_TRUE(Contains(verified.out, "ok: 6000 records")) << verified.out;
  EXPECT_TRUE(Contains(verified.out, "records in the archive")) << verified.out;

  // The ring is lost (as /dev/shm is at a reboot): created again over the archive, the log goes on.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  const RunResult again = Kappa({"log", "create", path, "--archive", archive.str()});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_TRUE(Contains(again.out, "continues the archived log at offset")) << again.out;
  EXPECT_EQ(payloads(), expected);
  ASSERT_EQ(Kappa({"log", "append", path}, "one more\n").status, 0);
  EXPECT_EQ(payloads(), expected + "one more\n");

  // Retention: the oldest segments go; the log now starts later, and says so.
  const RunResult retained = Kappa({"log", "archive", path, "--once", "--retain-size", "32K"});
  ASSERT_EQ(retained.status, 0) << retained.err;
  EXPECT_TRUE(Contains(retained.err, "past the retention size")) << retained.err;
  const std::string rest = payloads();
  EXPECT_LT(rest.size(), expected.size());
  EXPECT_TRUE(expected.ends_with(rest.substr(0, rest.size() - std::string("one more\n").size())));
  // Bad input: archive options without an archive, an archiver for a log that has none.
  const std::string plain = LogWith("");
  const RunResult no_archive = Kappa({"log", "create", NewPath("log"), "--retain-size", "1M"});
  EXPECT_EQ(no_archive.status, 2);
  ExpectOneErrorLine(no_archive);
  EXPECT_TRUE(Contains(no_archive.err, "needs --archive DIR")) << no_archive.err;
  const RunResult no_archiver = Kappa({"log", "archive", plain, "--once"});
  EXPECT_EQ(no_archiver.status, 1);
  ExpectOneErrorLine(no_archiver);
  EXPECT_TRUE(Contains(no_archiver.err, "has no archive")) << no_archiver.err;
}

TEST_F(KappaCliTest, ShouldCompressSealedSegmentsWithTheCodecTheArchiveNames) {
  kappa::testing::TempDir archive;
  const std::string path = NewPath("log");
  ASSERT_EQ(Kappa({"log", "create", path, "--capacity", "64K", "--archive", archive.str(),
                   "--segment-size", "16K", "--codec", "zstd", "--codec-level", "5"})
                .status,
            0);
  std::string expected;
  for (int chunk = 0; chunk < 4; ++chunk) {
    std::string lines;
    for (int i = 0; i < 1000; ++i) lines += "record " + std::to_string(chunk * 1000 + i) + "\n";
    expected += lines;
    ASSERT_EQ(Kappa({"log", "append", path, "--batch", "50"}, lines).status, 0);
    const RunResult archived = Kappa({"log", "archive", path, "--once"});
    ASSERT_EQ(archived.status, 0) << archived.err;
    EXPECT_TRUE(Contains(archived.err, "zstd when sealed")) << archived.err;
  }
  const RunResult info = Kappa({"log", "info", path});
  ASSERT_EQ(info.status, 0) << info.err;
  EXPECT_TRUE(Contains(info.out, "zstd, once sealed")) << info.out;
  const RunResult json = Kappa({"log", "info", path, "--format", "json"});
  EXPECT_TRUE(Contains(json.out, "\"codec\":\"zstd\"")) << json.out;
  const RunResult dump = Kappa({"log", "dump", path});
  std::string got;
  for (const std::string& line : Lines(dump.out)) got += TextPayload(line) + "\n";
  EXPECT_EQ(got, expected);
  const RunResult verified = Kappa({"log", "verify", path});
  ASSERT_EQ(verified.status, 0) << verified.err;
  EXPECT_TRUE(Contains(verified.out, "ok: 4000 records")) << verified.out;
  auto manifest = memlog::ReadManifest(archive.str());
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->settings.codec_level, 5);
  ASSERT_FALSE(manifest->segments.empty());
  for (const memlog::SegmentInfo& s : manifest->segments) EXPECT_EQ(s.codec, memlog::Codec::kZstd);
  // Switched off: segments sealed from now on stay as written; the compressed ones stay readable.
  ASSERT_EQ(Kappa({"log", "append", path}, "one more\n").status, 0);
  ASSERT_EQ(Kappa({"log", "archive", path, "--once", "--codec", "none"}).status, 0);
  manifest = memlog::ReadManifest(archive.str());
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->segments.back().codec, memlog::Codec::kNone);
  EXPECT_EQ(manifest->segments.front().codec, memlog::Codec::kZstd);
  got.clear();
  for (const std::string& line : Lines(Kappa({"log", "dump", path}).out))
    got += TextPayload(line) + "\n";
  EXPECT_EQ(got, expected + "one more\n");
  // A codec this build does not know, and a level out of range, are refused before anything is
  // made.
  const RunResult bad =
      Kappa({"log", "create", NewPath("log"), "--archive", archive.str(), "--codec", "brotli"});
  EXPECT_EQ(bad.status, 2);
  ExpectOneErrorLine(bad);
  EXPECT_TRUE(Contains(bad.err, "--codec must be none, lz4 or zstd")) << bad.err;
  const RunResult level =
      Kappa({"log", "archive", path, "--once", "--codec", "lz4", "--codec-level", "13"});
  EXPECT_EQ(level.status, 2);
  ExpectOneErrorLine(level);
  EXPECT_TRUE(Contains(level.err, "codec level 13 for lz4 must be in [0, 12]")) << level.err;
}

}  // namespace
}  // namespace kappa::tools
