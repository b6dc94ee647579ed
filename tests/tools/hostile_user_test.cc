// Another local user attacks kappa through the file system: creates its directories first,
// plants symlinks at the names it is about to write, hands it files of theirs. kappa (here run
// as root, the worst case) must refuse, with an error naming the directory or file, and must
// never write through a symlink. Needs root to play the other user (uid 65534); skipped otherwise.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "engine/engine.h"
#include "memlog/log.h"
#include "serving/namespace.h"
#include "tests/tools/kappa_process.h"

namespace kappa::tools {
namespace {

using testing::Contains;
using testing::KappaOptions;
using testing::KappaProcess;
using testing::RunResult;

constexpr uid_t kOtherUser = 65534;  // nobody

class HostileUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create files of another user";
    root_ = "/tmp/kappa-test-hostile-" + std::to_string(::getpid());
    std::system(("rm -rf " + root_).c_str());
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    victim_ = root_ + "/victim";  // a file of root's that the attacker wants overwritten
    Write(victim_, "precious");
  }
  void TearDown() override {
    if (!root_.empty()) std::system(("rm -rf " + root_).c_str());
  }
  static void Write(const std::string& path, const std::string& text) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  static std::string Read(const std::string& path) {
    std::string text;
    if (std::FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[256];
      const std::size_t n = std::fread(buf, 1, sizeof buf, f);
      text.assign(buf, n);
      std::fclose(f);
    }
    return text;
  }
  // A directory the attacker made (theirs, writable by everyone), with symlinks at every name
  // kappa might create in it, pointing at the victim.
  std::string AttackersDirectory(const std::string& name) {
    const std::string dir = root_ + "/" + name;
    EXPECT_EQ(::mkdir(dir.c_str(), 0777), 0);
    EXPECT_EQ(::chmod(dir.c_str(), 0777), 0);
    EXPECT_EQ(::chown(dir.c_str(), kOtherUser, kOtherUser), 0);
    for (const std::string planted :
         {"events", "events.types", "events.types.tmp", "registry", "q1@1.ckpt.tmp"})
      EXPECT_EQ(::symlink(victim_.c_str(), (dir + "/" + planted).c_str()), 0);
    return dir;
  }

  std::string root_;
  std::string victim_;
};

TEST_F(HostileUserTest, ShouldRefuseADataDirectoryAnotherUserCreatedFirst) {
  const std::string data = AttackersDirectory("data");
  KappaOptions o;
  o.env = {"KAPPA_DATA_DIR=" + data};
  const RunResult r =
      KappaProcess({"gen", "events2", "--events", "100", "--capacity", "1M"}, o).Finish();
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(Contains(r.err, data + ": owned by another user")) << r.err;
  EXPECT_EQ(Read(victim_), "precious");
  // Through the library as well.
  ::setenv("KAPPA_DATA_DIR", data.c_str(), 1);
  memlog::CreateOptions co;
  co.capacity = 1 << 16;
  auto log = memlog::Log::Create(memlog::Log::ResolvePath("events3"), co);
  ::unsetenv("KAPPA_DATA_DIR");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), memlog::StatusCode::kPermissionDenied) << log.status().message();
}

TEST_F(HostileUserTest, ShouldRefuseADataDirectoryOthersCanWriteIn) {
  const std::string data = root_ + "/open-data";
  ASSERT_EQ(::mkdir(data.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(data.c_str(), 0777), 0);
  KappaOptions o;
  o.env = {"KAPPA_DATA_DIR=" + data};
  const RunResult r =
      KappaProcess({"gen", "events", "--events", "100", "--capacity", "1M"}, o).Finish();
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(Contains(r.err, data + ": writable by others")) << r.err;
}

// The catalog beside a log in a directory the user chose (a sticky, world-writable one like
// /tmp is allowed): a symlink planted at its name is refused, never read or written through.
TEST_F(HostileUserTest, ShouldNeverFollowASymlinkAtTheCatalog) {
  const std::string dir = root_ + "/sticky";
  ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 01777), 0);
  const std::string log = dir + "/events";
  ASSERT_EQ(::symlink(victim_.c_str(), (log + ".types").c_str()), 0);
  const RunResult gen = KappaProcess({"gen", log, "--events", "100", "--capacity", "1M"}).Finish();
  EXPECT_NE(gen.status, 0);
  EXPECT_TRUE(Contains(gen.err, log + ".types: a symlink: refused")) << gen.err;
  EXPECT_EQ(Read(victim_), "precious");
  // Without it, gen writes its catalog; one swapped for a symlink later is refused when read.
  ASSERT_EQ(::unlink((log + ".types").c_str()), 0);
  ASSERT_EQ(::unlink(log.c_str()), 0);
  const RunResult again =
      KappaProcess({"gen", log, "--events", "100", "--capacity", "1M"}).Finish();
  ASSERT_EQ(again.status, 0) << again.err;
  ASSERT_EQ(::unlink((log + ".types").c_str()), 0);
  ASSERT_EQ(::symlink(victim_.c_str(), (log + ".types").c_str()), 0);
  const RunResult dump = KappaProcess({"log", "dump", log, "--count", "1"}).Finish();
  EXPECT_EQ(dump.status, 0) << dump.err;  // the records, undecoded, and why
  EXPECT_TRUE(Contains(dump.err, log + ".types: a symlink: refused; records are shown undecoded"))
      << dump.err;
  EXPECT_EQ(Read(victim_), "precious");
}

TEST_F(HostileUserTest, ShouldRefuseALogOfAnotherUser) {
  const std::string log = root_ + "/theirs.log";
  {
    memlog::CreateOptions co;
    co.capacity = 1 << 16;
    ASSERT_TRUE(memlog::Log::Create(log, co).ok());
  }
  ASSERT_EQ(::chown(log.c_str(), kOtherUser, kOtherUser), 0);
  auto opened = memlog::Log::Open(log);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), memlog::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(opened.status().message(), "owned by another user"))
      << opened.status().message();
}

TEST_F(HostileUserTest, ShouldRefuseViewAndCheckpointDirectoriesOfAnotherUser) {
  const std::string views = AttackersDirectory("views");
  auto ns = serving::Namespace::Open(views);
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), serving::StatusCode::kPermissionDenied) << ns.status().message();
  EXPECT_EQ(Read(victim_), "precious");

  const std::string checkpoints = AttackersDirectory("checkpoints");
  engine::EngineOptions eo;
  eo.threads = 1;
  eo.view_namespace = root_ + "/my-views";
  eo.checkpoint_dir = checkpoints;
  auto e = engine::Engine::Create(eo);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), serving::StatusCode::kPermissionDenied) << e.status().message();
  EXPECT_TRUE(Contains(e.status().message(), checkpoints + ": owned by another user"))
      << e.status().message();
  EXPECT_EQ(Read(victim_), "precious");
}

}  // namespace
}  // namespace kappa::tools
