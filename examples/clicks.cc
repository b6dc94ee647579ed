// clicks: a record type of its own, a producer, a pipeline and a reader, against an installed
// kappa. Appends 100,000 clicks by 100 users to the log "example-clicks", counts the clicks per
// user into the view "clicks_per_user" of the namespace "example", and checks what the view
// holds. Exits 0 when every count is right.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "engine/record_catalog.h"
#include "memlog/log.h"
#include "memlog/producer.h"
#include "serving/namespace.h"
#include "serving/view_reader.h"

struct Click {
  std::int64_t user;
  std::int64_t duration_ms;
  char page[16];
};
// Its record type in the log (7) and its name in the log's catalog, so that `kappa log dump`
// shows its fields and `kappa log append --type click` encodes JSON lines into it.
KAPPA_NAMED_RECORD(Click, "click", 7, user, duration_ms, page);

namespace {

constexpr int kUsers = 100;
constexpr int kClicks = 100'000;

int Fail(const std::string& what) {
  std::fprintf(stderr, "clicks: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  using namespace kappa;
  const std::string path = memlog::Log::ResolvePath("example-clicks");
  std::remove(path.c_str());
  memlog::CreateOptions options;
  options.capacity = 16 << 20;
  auto log = memlog::Log::Create(path, options);
  if (!log.ok()) return Fail(log.status().message());
  if (auto s = engine::RecordCatalog::Register<Click>(path, "click"); !s.ok())
    return Fail(s.message());

  // The producer: one batch of 1,000 clicks at a time, each batch all or nothing.
  auto producer = (*log)->NewProducer();
  if (!producer.ok()) return Fail(producer.status().message());
  std::vector<Click> clicks(1000);
  for (int i = 0; i < kClicks; i += 1000) {
    std::vector<memlog::RecordView> batch;
    for (int j = 0; j < 1000; ++j) {
      clicks[j] = Click{.user = (i + j) % kUsers, .duration_ms = 10, .page = {}};
      std::strncpy(clicks[j].page, "home", sizeof clicks[j].page);
      batch.push_back({.payload = std::as_bytes(std::span(&clicks[j], 1)), .type = 7});
    }
    // kFull when readers lag on a block-policy log: retry, or size the ring for the burst.
    if (const memlog::AppendResult r = (*producer)->AppendBatch(batch);
        r != memlog::AppendResult::kOk)
      return Fail(std::string("append: ") + memlog::AppendResultName(r));
  }

  // The pipeline: clicks per user, into a keyed view (a previous run's view is dropped first).
  if (auto ns = serving::Namespace::Open("example", /*create=*/true); ns.ok())
    static_cast<void>((*ns)->Drop("clicks_per_user"));
  auto eng = engine::Engine::Create({.threads = 2, .view_namespace = "example"});
  if (!eng.ok()) return Fail(eng.status().message());
  engine::Job job = engine::Source(path)
                        .Read<Click>()
                        .KeyBy([](const Click& c) { return c.user; })
                        .Aggregate(operators::Count<Click>{})
                        .ToView("clicks_per_user", {.key_name = "user"});
  auto running = (*eng)->Start(job);
  if (!running.ok()) return Fail(running.status().message());
  if (!(*running)->WaitCaughtUp(std::chrono::seconds(30)))
    return Fail("the job did not catch up within 30 s");
  const engine::JobStats stats = (*running)->Stats();
  (*running)->Stop();
  if (stats.malformed != 0)
    return Fail(std::to_string(stats.malformed) + " records did not have Click's size");

  // The reader: any process can do this, in place, while the job runs.
  auto reader = serving::ViewReader::Open("example", "clicks_per_user");
  if (!reader.ok()) return Fail(reader.status().message());
  std::vector<std::byte> value((*reader)->value_size());
  std::uint64_t offset = 0;
  for (int user = 0; user < kUsers; ++user) {
    if ((*reader)->Get(static_cast<std::uint64_t>(user), value, &offset) !=
        serving::ReadStatus::kOk)
      return Fail("no count for user " + std::to_string(user));
    const std::int64_t count = (*reader)->schema().GetI64(value, 0);
    if (count != kClicks / kUsers)
      return Fail("user " + std::to_string(user) + ": " + std::to_string(count) + " clicks, not " +
                  std::to_string(kClicks / kUsers));
  }
  std::printf("clicks: %" PRIu64
              " records, %d users with %d clicks each in view "
              "example/clicks_per_user\n",
              stats.records_in, kUsers, kClicks / kUsers);
  return 0;
}
