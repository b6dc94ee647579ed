// The reference generator against the nexmark project's own events: the first 10,000 of its
// generator at two rates (tests/nexmark/data/README.md), field by field.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "nexmark/generator.h"
#include "nexmark/java_random.h"
#include "tests/engine/test_util.h"

namespace kappa::nexmark {
namespace {

// One event of a file: its keys and their values (a number or a string).
using Value = std::variant<std::int64_t, std::string>;
using Line = std::map<std::string, Value>;

// The files' JSON: one object per line, keys and string values in quotes (a backslash escapes
// the next character), numbers as integers.
bool ParseLine(const std::string& text, Line* out, std::string* error) {
  std::size_t i = 0;
  auto expect = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    *error = std::string("expected '") + c + "' at column " + std::to_string(i + 1);
    return false;
  };
  auto string = [&](std::string* s) {
    if (!expect('"')) return false;
    for (; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') ++i;
      if (i < text.size()) s->push_back(text[i]);
    }
    return expect('"');
  };
  if (!expect('{')) return false;
  while (true) {
    std::string key;
    if (!string(&key) || !expect(':')) return false;
    if (i < text.size() && text[i] == '"') {
      std::string value;
      if (!string(&value)) return false;
      (*out)[key] = value;
    } else {
      std::size_t end = i;
      while (end < text.size() && (text[end] == '-' || std::isdigit(text[end]))) ++end;
      if (end == i) {
        *error = "no value for " + key;
        return false;
      }
      (*out)[key] = std::stoll(text.substr(i, end - i));
      i = end;
    }
    if (i < text.size() && text[i] == '}') return true;
    if (!expect(',')) return false;
  }
}

std::vector<Line> ReadEvents(const std::string& name) {
  const std::string path = std::string(KAPPA_NEXMARK_DATA) + "/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<Line> lines;
  std::string text, error;
  while (std::getline(in, text)) {
    Line line;
    EXPECT_TRUE(ParseLine(text, &line, &error)) << path << ":" << lines.size() + 1 << ": " << error;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string Text(const char* field, std::size_t size) {
  return std::string(field, strnlen(field, size));
}

constexpr std::int64_t kBaseMs = 1767225600000;  // 2026-01-01T00:00:00Z, the files' base time

// Every field of every event equal to the file's (times in ms there, ns here).
void ExpectTheReferenceEvents(const std::string& file, double events_per_second) {
  const std::vector<Line> lines = ReadEvents(file);
  ASSERT_EQ(lines.size(), 10'000u);
  GeneratorConfig config;
  config.kind = GeneratorKind::kReference;
  config.base_time_ns = kBaseMs * 1'000'000;
  config.events_per_second = events_per_second;
  ASSERT_TRUE(Generator::CheckConfig(config).ok());
  const Generator g(config);
  std::size_t extra_bytes[3] = {0, 0, 0}, counts[3] = {0, 0, 0};
  for (std::uint64_t n = 0; n < lines.size(); ++n) {
    const Line& want = lines[n];
    Event e;
    g.Make(n, &e);
    auto num = [&](const char* key) { return std::get<std::int64_t>(want.at(key)); };
    auto str = [&](const char* key) { return std::get<std::string>(want.at(key)); };
    auto ms = [&](const char* key) { return num(key) * 1'000'000; };
    const std::string where = file + " event " + std::to_string(n);
    ASSERT_EQ(num("event"), static_cast<std::int64_t>(n)) << where;
    const std::string kind = str("kind");
    ASSERT_EQ(str("extra"), std::string(e.extra())) << where << " extra";
    ++counts[static_cast<int>(e.kind)];
    extra_bytes[static_cast<int>(e.kind)] += e.extra().size();
    if (kind == "person") {
      ASSERT_EQ(e.kind, EventKind::kPerson) << where;
      const Person& p = e.person;
      EXPECT_EQ(p.id, num("id")) << where;
      EXPECT_EQ(Text(p.name, sizeof p.name), str("name")) << where;
      EXPECT_EQ(Text(p.email_address, sizeof p.email_address), str("emailAddress")) << where;
      EXPECT_EQ(Text(p.credit_card, sizeof p.credit_card), str("creditCard")) << where;
      EXPECT_EQ(Text(p.city, sizeof p.city), str("city")) << where;
      EXPECT_EQ(Text(p.state, sizeof p.state), str("state")) << where;
      EXPECT_EQ(p.date_time, ms("dateTime")) << where;
    } else if (kind == "auction") {
      ASSERT_EQ(e.kind, EventKind::kAuction) << where;
      const Auction& a = e.auction;
      EXPECT_EQ(a.id, num("id")) << where;
      EXPECT_EQ(Text(a.item_name, sizeof a.item_name), str("itemName")) << where;
      EXPECT_EQ(Text(a.description, sizeof a.description), str("description")) << where;
      EXPECT_EQ(a.initial_bid, num("initialBid")) << where;
      EXPECT_EQ(a.reserve, num("reserve")) << where;
      EXPECT_EQ(a.date_time, ms("dateTime")) << where;
      EXPECT_EQ(a.expires, ms("expires")) << where;
      EXPECT_EQ(a.seller, num("seller")) << where;
      EXPECT_EQ(a.category, num("category")) << where;
    } else {
      ASSERT_EQ(kind, "bid") << where;
      ASSERT_EQ(e.kind, EventKind::kBid) << where;
      const Bid& b = e.bid;
      EXPECT_EQ(b.auction, num("auction")) << where;
      EXPECT_EQ(b.bidder, num("bidder")) << where;
      EXPECT_EQ(b.price, num("price")) << where;
      EXPECT_EQ(b.date_time, ms("dateTime")) << where;
    }
    if (::testing::Test::HasFailure()) return;  // the first event that differs says enough
  }
  EXPECT_EQ(counts[0], 200u);
  EXPECT_EQ(counts[1], 600u);
  EXPECT_EQ(counts[2], 9200u);
  // The padding brings events to about the reference's averages (200, 500 and 100 bytes, as it
  // counts them).
  EXPECT_GT(extra_bytes[2] / counts[2], 60u);
  EXPECT_LT(extra_bytes[2] / counts[2], 76u);
}

TEST(ReferenceGeneratorTest, ShouldMakeTheReferenceEventsAtAMillionEventsPerSecond) {
  ExpectTheReferenceEvents("reference-1M-per-s.jsonl", 1e6);
}

TEST(ReferenceGeneratorTest, ShouldMakeTheReferenceEventsAtTenThousandEventsPerSecond) {
  ExpectTheReferenceEvents("reference-10K-per-s.jsonl", 1e4);
}

// java.util.Random's own documented sequence for seed 42 (its first nextInt() is -1170105035).
TEST(ReferenceGeneratorTest, ShouldDrawWhatJavaUtilRandomDraws) {
  JavaRandom r(42);
  EXPECT_EQ(r.NextInt(), -1170105035);
}

// A bid's channel is drawn by kappa's rule, half of them hot. (That the log carries each record
// with its padding after it: nexmark_cli_test's dump of a reference log.)
TEST(ReferenceGeneratorTest, ShouldDrawChannelsHalfOfThemHot) {
  GeneratorConfig config;
  config.kind = GeneratorKind::kReference;
  const Generator g(config);
  std::size_t bids = 0, hot = 0;
  for (std::uint64_t n = 0; n < 50'000; ++n) {
    Event e;
    g.Make(n, &e);
    if (e.kind != EventKind::kBid) continue;
    ++bids;
    const std::string channel = Text(e.bid.channel, sizeof e.bid.channel);
    ASSERT_FALSE(channel.empty());
    hot += !channel.starts_with("channel-");
  }
  EXPECT_GT(static_cast<double>(hot) / static_cast<double>(bids), 0.45);
  EXPECT_LT(static_cast<double>(hot) / static_cast<double>(bids), 0.55);
}

// A job reads the records of a reference log and skips their padding: none is malformed.
TEST(ReferenceGeneratorTest, ShouldFeedJobsThatReadTheRecordsAndSkipTheirPadding) {
  engine::testing::TempLog log;
  serving::testing::TempNamespace ns;
  GeneratorConfig config;
  config.kind = GeneratorKind::kReference;
  config.base_time_ns = kBaseMs * 1'000'000;
  const Generator g(config);
  std::uint64_t bids = 0;
  for (std::uint64_t n = 0; n < 5000; ++n) {
    Event e;
    g.Make(n, &e);
    ASSERT_GT(e.extra().size(), 0u);
    log.AppendRaw(
        std::string_view(reinterpret_cast<const char*>(e.payload().data()), e.payload().size()),
        e.type());
    bids += e.kind == EventKind::kBid;
  }
  auto engine = engine::testing::MakeEngine(ns, 2);
  auto running = std::move(engine->Start(engine::From<Bid>("bids", log.path())
                                             .KeyBy([](const Bid& b) { return b.auction; })
                                             .Aggregate(operators::Count<Bid>{})
                                             .ToView("bids")))
                     .value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(running->Stats().malformed, 0u);
  EXPECT_EQ(running->Stats().records_in, bids);
}

TEST(ReferenceGeneratorTest, ShouldRefuseABaseTimeThatIsNotWholeMilliseconds) {
  GeneratorConfig config;
  config.kind = GeneratorKind::kReference;
  config.base_time_ns = 2'000'000;
  EXPECT_TRUE(Generator::CheckConfig(config).ok());
  config.base_time_ns = 1'500'001;
  EXPECT_EQ(Generator::CheckConfig(config).code(), serving::StatusCode::kInvalidArgument);
  // An auction's length in ms must fit the reference's 32-bit draw.
  config.base_time_ns = 0;
  config.events_per_second = 0.01;
  EXPECT_TRUE(Generator::CheckConfig(config).ok());
  config.events_per_second = 0.001;
  EXPECT_EQ(Generator::CheckConfig(config).code(), serving::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kappa::nexmark
