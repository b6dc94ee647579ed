// The producer's C ABI (memlog/kappa_log.h): appends, batches and claims read back through a
// LogReader, and every misuse turned into a status code with a message.
#include "memlog/kappa_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "memlog/log.h"
#include "memlog/log_reader.h"

extern "C" int kl_c_checks(const char* path);  // kappa_log_c_checks.c

namespace kappa::memlog {
namespace {

class KappaLogCTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/dev/shm/kappa-kl-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ::unlink(path_.c_str());
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  void Create(std::uint64_t capacity, Policy policy = Policy::kBlock) {
    CreateOptions options;
    options.capacity = capacity;
    options.policy = policy;
    ASSERT_TRUE(Log::Create(path_, options).ok());
  }

  // Every record from the start: (type, payload).
  std::vector<std::pair<std::uint16_t, std::string>> ReadAll() {
    std::vector<std::pair<std::uint16_t, std::string>> records;
    auto log = Log::Open(path_, OpenOptions{.read_only = true});
    EXPECT_TRUE(log.ok());
    auto reader = (*log)->NewReader(StartAt::Earliest());
    EXPECT_TRUE(reader.ok());
    RecordBatch batch;
    while ((*reader)->Poll(&batch) == PollStatus::kOk) {
      for (const Record& r : batch) {
        records.emplace_back(
            r.type, std::string(reinterpret_cast<const char*>(r.payload.data()), r.payload.size()));
      }
    }
    return records;
  }

  std::string path_;
};

TEST_F(KappaLogCTest, ShouldAppendRecordsBatchesAndClaims) {
  Create(1 << 20);
  kl_log* log = nullptr;
  ASSERT_EQ(kl_open(path_.c_str(), &log), KL_OK) << kl_last_error();
  std::uint64_t offset = 99;
  ASSERT_EQ(kl_append(log, 7, "one", 3, KL_TIMESTAMP_NOW, 0, &offset), KL_OK) << kl_last_error();
  EXPECT_EQ(offset, 0u);
  const kl_record batch[] = {{"two", 3, 8, 0, KL_TIMESTAMP_NOW}, {"", 0, 9, 0, 1234}};
  ASSERT_EQ(kl_append_batch(log, batch, 2, 0), KL_OK) << kl_last_error();
  kl_reservation claim;
  ASSERT_EQ(kl_claim(log, 5, &claim), KL_OK) << kl_last_error();
  std::memcpy(claim.data, "three", 5);
  ASSERT_EQ(kl_commit(log, &claim, 10, KL_TIMESTAMP_NOW), KL_OK) << kl_last_error();
  ASSERT_EQ(kl_claim(log, 4, &claim), KL_OK) << kl_last_error();
  ASSERT_EQ(kl_abort(log, &claim), KL_OK);  // becomes padding
  kl_info info;
  ASSERT_EQ(kl_get_info(log, &info), KL_OK);
  EXPECT_EQ(std::string(info.path), path_);
  EXPECT_EQ(info.capacity, 1u << 20);
  EXPECT_EQ(info.records_appended, 4u);
  EXPECT_EQ(info.policy, 0u);
  kl_close(log);

  const auto records = ReadAll();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0], std::make_pair(std::uint16_t{7}, std::string("one")));
  EXPECT_EQ(records[1], std::make_pair(std::uint16_t{8}, std::string("two")));
  EXPECT_EQ(records[2], std::make_pair(std::uint16_t{9}, std::string()));
  EXPECT_EQ(records[3], std::make_pair(std::uint16_t{10}, std::string("three")));
}

TEST_F(KappaLogCTest, ShouldTurnMisuseIntoStatusCodes) {
  kl_log* log = reinterpret_cast<kl_log*>(1);
  EXPECT_EQ(kl_open(path_.c_str(), &log), KL_ERROR);  // no such log
  EXPECT_EQ(log, nullptr);
  EXPECT_NE(std::string(kl_last_error()).find(path_), std::string::npos) << kl_last_error();
  EXPECT_EQ(kl_open(nullptr, &log), KL_BAD_ARGUMENT);
  EXPECT_EQ(kl_open(path_.c_str(), nullptr), KL_BAD_ARGUMENT);
  kl_close(nullptr);

  Create(1 << 16);
  ASSERT_EQ(kl_open(path_.c_str(), &log), KL_OK) << kl_last_error();
  EXPECT_EQ(kl_append(log, 0xFF00, "x", 1, KL_TIMESTAMP_NOW, 0, nullptr), KL_BAD_ARGUMENT);
  EXPECT_NE(std::string(kl_last_error()).find("kappa's own"), std::string::npos);
  EXPECT_EQ(kl_append(log, 0, nullptr, 1, KL_TIMESTAMP_NOW, 0, nullptr), KL_BAD_ARGUMENT);
  EXPECT_EQ(kl_append(nullptr, 0, "x", 1, KL_TIMESTAMP_NOW, 0, nullptr), KL_BAD_ARGUMENT);
  const std::string big(1 << 15, 'b');  // over a quarter of the ring
  EXPECT_EQ(kl_append(log, 0, big.data(), static_cast<std::uint32_t>(big.size()), KL_TIMESTAMP_NOW,
                      0, nullptr),
            KL_TOO_LARGE);
  EXPECT_NE(std::string(kl_last_error()).find("max payload"), std::string::npos) << kl_last_error();
  const kl_record reserved[] = {{"a", 1, 1, 0, KL_TIMESTAMP_NOW}, {"b", 1, 0xFFFF, 0, 0}};
  EXPECT_EQ(kl_append_batch(log, reserved, 2, 0), KL_BAD_ARGUMENT);
  kl_reservation claim;
  EXPECT_EQ(kl_commit(log, &claim, 0, KL_TIMESTAMP_NOW), KL_BAD_ARGUMENT);  // none open
  ASSERT_EQ(kl_claim(log, 8, &claim), KL_OK);
  kl_reservation second;
  EXPECT_EQ(kl_claim(log, 8, &second), KL_BAD_ARGUMENT);
  EXPECT_EQ(kl_commit(log, &claim, 0xFF01, KL_TIMESTAMP_NOW), KL_BAD_ARGUMENT);  // and aborted
  EXPECT_EQ(kl_abort(log, &claim), KL_BAD_ARGUMENT);
  kl_close(log);
  EXPECT_TRUE(ReadAll().empty());
}

// A block-policy log whose cursor never reads fills up: appends wait their timeout, then say
// so; nothing is lost or half written.
TEST_F(KappaLogCTest, ShouldWaitForRoomThenReportAFullLog) {
  Create(1 << 14);
  {
    auto log = Log::Open(path_);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->OpenCursor("slow", StartAt::Earliest()).ok());
  }
  kl_log* log = nullptr;
  ASSERT_EQ(kl_open(path_.c_str(), &log), KL_OK) << kl_last_error();
  const std::string record(1000, 'r');
  int appended = 0;
  int rc = KL_OK;
  while ((rc = kl_append(log, 1, record.data(), 1000, KL_TIMESTAMP_NOW, 0, nullptr)) == KL_OK)
    ++appended;
  EXPECT_EQ(rc, KL_FULL);
  EXPECT_GT(appended, 10);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kl_append(log, 1, record.data(), 1000, KL_TIMESTAMP_NOW, 50'000'000, nullptr), KL_FULL);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_NE(std::string(kl_last_error()).find("full"), std::string::npos) << kl_last_error();
  kl_reservation claim;
  EXPECT_EQ(kl_claim(log, 1000, &claim), KL_FULL);
  kl_close(log);
  EXPECT_EQ(ReadAll().size(), static_cast<std::size_t>(appended));
}

TEST_F(KappaLogCTest, ShouldBeUsableFromC) {
  Create(1 << 16);
  ASSERT_EQ(kl_c_checks(path_.c_str()), 0) << kl_last_error();
  const auto records = ReadAll();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].second, "from C, claimed");
}

}  // namespace
}  // namespace kappa::memlog
