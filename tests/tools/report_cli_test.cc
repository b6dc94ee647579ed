// kappa run|tour --metrics-out and kappa report, run as the built binary; the page rendered in
// headless Chromium (Debian's chromium), which must run its script without an error and draw
// its charts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
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

RunResult Kappa(const std::vector<std::string>& args) {
  return KappaProcess(args, KappaOptions{}).Finish(std::chrono::seconds(300));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t CountOf(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class ReportCliTest : public ::testing::Test {
 protected:
  kappa::testing::TempDir dir_{"/dev/shm"};
};

TEST_F(ReportCliTest, ShouldChartWhatRunMeasuredInAPageChromiumRenders) {
  const std::string events = dir_ / "events";
  const std::string metrics = dir_ / "run.jsonl";
  RunResult r = Kappa({"gen", events, "--events", "300000", "--capacity", "64M"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = Kappa({"run", "q1", "q5", "--log", events, "--ns", dir_ / "views", "--until-caught-up",
             "--metrics-out", metrics});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> samples = Lines(ReadAll(metrics));
  ASSERT_GE(samples.size(), 2u);
  bool q1 = false, q5 = false;
  for (const std::string& s : samples) {
    EXPECT_TRUE(s.starts_with("{\"t_ns\":") && Contains(s, "\"source\":\"run\"")) << s;
    EXPECT_TRUE(Contains(s, "\"records_per_s\":") && Contains(s, "\"latency_p99_ns\":")) << s;
    q1 = q1 || Contains(s, "\"series\":\"q1\"");
    q5 = q5 || Contains(s, "\"series\":\"q5\"");
  }
  EXPECT_TRUE(q1 && q5) << samples[0];
  EXPECT_TRUE(Contains(samples.back(), "\"records_in\":")) << samples.back();
  // The log alone: its reader's measurements.
  const std::string demo = dir_ / "demo.jsonl";
  // Its log in the test's directory, not in the default data directory.
  r = Kappa({"demo", "--producers", "1", "--records", "200000", "--capacity", "4M", "--log",
             dir_ / "demo.log", "--metrics-out", demo});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> demo_samples = Lines(ReadAll(demo));
  ASSERT_GE(demo_samples.size(), 1u);
  EXPECT_TRUE(Contains(demo_samples.back(), "\"source\":\"demo\",\"series\":\"log\","))
      << demo_samples.back();
  EXPECT_TRUE(Contains(demo_samples.back(), "\"records_in\":200000,")) << demo_samples.back();

  const std::string page = dir_ / "report.html";
  r = Kappa({"report", metrics, demo, "--output", page, "--title", "q1 and q5 <replayed>"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, page + ": 3 series, 5 charts\n");
  const std::string html = ReadAll(page);
  EXPECT_TRUE(Contains(html, "<title>q1 and q5 &lt;replayed&gt;</title>")) << html.substr(0, 300);
  EXPECT_FALSE(Contains(html, " src=") || Contains(html, " href=")) << "self-contained";

  const char* chromium = "/usr/bin/chromium";
  if (::access(chromium, X_OK) != 0) {
    if (std::getenv("KAPPA_REQUIRE_CHROMIUM") != nullptr) FAIL() << chromium << " is missing";
    GTEST_SKIP() << "no " << chromium << " (Debian: apt install chromium)";
  }
  const std::string dom = dir_ / "dom.html";
  const std::string command = std::string("timeout 120 ") + chromium +
                              " --headless --no-sandbox --disable-gpu --no-first-run"
                              " --user-data-dir=" +
                              dir_ / "profile" + " --dump-dom file://" + page + " > " + dom +
                              " 2> " + dir_ / "chromium.err";
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadAll(dir_ / "chromium.err");
  const std::string rendered = ReadAll(dom);
  EXPECT_TRUE(Contains(rendered, "data-charts=\"5\"")) << rendered.substr(0, 2000);
  EXPECT_FALSE(Contains(rendered, "data-errors=\"")) << rendered.substr(0, 2000);
  EXPECT_EQ(CountOf(rendered, "<svg"), 5u);
  EXPECT_EQ(CountOf(rendered, "class=\"series\""), 15u);  // q1, q5 and the log in each chart
  EXPECT_TRUE(Contains(rendered, "data-metric=\"records_per_s\" data-series=\"3\""));
  EXPECT_TRUE(Contains(rendered, "data-name=\"run: run q5\""));  // file: source series
  EXPECT_TRUE(Contains(rendered, "data-name=\"demo: demo log\""));
  EXPECT_FALSE(Contains(ReadAll(dir_ / "chromium.err"), "Uncaught"));
}

TEST_F(ReportCliTest, ShouldRejectFilesThatAreNotMeasurements) {
  const std::string bad = dir_ / "bad.jsonl";
  std::ofstream(bad) << "{\"t_ns\":1,\"series\":\"q1\",\"records_per_s\":5}\nnot json\n";
  RunResult r = Kappa({"report", bad, "--output", dir_ / "out.html"});
  EXPECT_EQ(r.status, 1);
  ExpectOneErrorLine(r, "a line that is not JSON");
  EXPECT_TRUE(Contains(r.err, bad + ":2: not JSON")) << r.err;
  const std::string empty = dir_ / "empty.jsonl";
  std::ofstream(empty) << "\n";
  r = Kappa({"report", empty});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, "no samples")) << r.err;
  r = Kappa({"report", dir_ / "missing.jsonl"});
  EXPECT_EQ(r.status, 1);
  r = Kappa({"report"});
  EXPECT_EQ(r.status, 2);
  // The page is never written through a symbolic link.
  const std::string good = dir_ / "good.jsonl";
  std::ofstream(good) << "{\"t_ns\":1,\"source\":\"run\",\"series\":\"q1\",\"records_per_s\":5}\n";
  const std::string target = dir_ / "target";
  std::ofstream(target) << "keep";
  ASSERT_EQ(::symlink(target.c_str(), (dir_ / "link.html").c_str()), 0);
  r = Kappa({"report", good, "--output", dir_ / "link.html"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(Contains(r.err, "symbolic link")) << r.err;
  EXPECT_EQ(ReadAll(target), "keep");
  r = Kappa({"report", good});  // next to it: good.html
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, dir_ / "good.html" + ": 1 series, 5 charts\n");
}

}  // namespace
}  // namespace kappa::tools
