// Pipelines that read records with their tails (engine::WithTail): the tail's bytes as they were
// appended, the rest zeros, and a tail too long for the room malformed, never cut.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tests/engine/test_util.h"
#include "tests/serving/test_util.h"

namespace kappa::engine::testing {

struct Note {
  std::int64_t id;
  std::int64_t time;
};
struct NoteText {
  std::int64_t id;
  std::int64_t length;
  char text[16];
};

}  // namespace kappa::engine::testing

KAPPA_RECORD(kappa::engine::testing::Note, 9, id, time);
KAPPA_RECORD_TAIL(kappa::engine::testing::Note, "text");
KAPPA_RECORD(kappa::engine::testing::NoteText, 10, id, length, text);

namespace kappa::engine {
namespace {

using testing::MakeEngine;
using testing::Note;
using testing::NoteText;
using testing::TempLog;
using testing::TempNamespace;

TEST(RecordTailTest, ShouldGiveEachRecordItsTailAndRefuseOneTooLong) {
  TempLog log;
  TempNamespace ns;
  const std::vector<std::string> tails = {"", "hello", "sixteen bytes!!!", "seventeen bytes!!",
                                          std::string("a\0b", 3)};
  for (std::size_t i = 0; i < tails.size(); ++i) {
    const Note n{static_cast<std::int64_t>(i), 1000};
    std::string payload(reinterpret_cast<const char*>(&n), sizeof n);
    payload += tails[i];
    log.AppendRaw(payload, RecordType<Note>::kLogType);
  }
  using In = WithTail<Note, 16>;
  auto engine = MakeEngine(ns, 1);
  auto running = std::move(engine->Start(From<In>("notes", log.path())
                                             .Map([](const In& in) {
                                               NoteText t{};
                                               t.id = in.record.id;
                                               t.length = static_cast<std::int64_t>(in.tail_size);
                                               std::memcpy(t.text, in.tail, sizeof t.text);
                                               return t;
                                             })
                                             .ToList("notes")))
                     .value();
  ASSERT_TRUE(running->WaitCaughtUp(std::chrono::seconds(30)));
  EXPECT_EQ(running->Stats().malformed, 1u);  // the 17-byte tail
  const auto rows = testing::ScanRows<NoteText>(ns, "notes");
  ASSERT_EQ(rows.size(), 4u);
  for (const NoteText& t : rows) {
    const std::string& want = tails[static_cast<std::size_t>(t.id)];
    EXPECT_EQ(t.length, static_cast<std::int64_t>(want.size()));
    EXPECT_EQ(std::string(t.text, static_cast<std::size_t>(t.length)), want);
    for (std::size_t i = want.size(); i < sizeof t.text; ++i) EXPECT_EQ(t.text[i], '\0') << t.id;
  }
}

}  // namespace
}  // namespace kappa::engine
