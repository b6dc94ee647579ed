#include "base/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace kappa::base {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/kappa-test-files-" + std::to_string(::getpid());
    std::system(("rm -rf " + dir_).c_str());
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(FilesTest, ShouldWriteAtomicallyAndNeverThroughASymlinkAtTheTemporaryName) {
  const std::string victim = dir_ + "/victim";
  ASSERT_TRUE(WriteFileAtomically(victim, "precious", DirectoryUse::kPrivate).ok());
  const std::string target = dir_ + "/file";
  for (int n = 0; n < 64; ++n)  // every temporary name this process's next writes may take
    ASSERT_EQ(
        ::symlink(
            victim.c_str(),
            (target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n)).c_str()),
        0);
  ASSERT_TRUE(WriteFileAtomically(target, "new", DirectoryUse::kPrivate).ok());
  EXPECT_EQ(*ReadOwnFile(target), "new");
  EXPECT_EQ(*ReadOwnFile(victim), "precious");
  struct stat st;
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FilesTest, ShouldRefuseToReadASymlinkOrAMissingFile) {
  ASSERT_EQ(::symlink("/etc/hostname", (dir_ + "/link").c_str()), 0);
  auto link = ReadOwnFile(dir_ + "/link");
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadOwnFile(dir_ + "/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(FilesTest, ShouldRefuseDirectoriesOthersCanWriteOrThatAreSymlinks) {
  auto mine = OpenDirectory(dir_, DirectoryUse::kPrivate, false);
  ASSERT_TRUE(mine.ok()) << mine.status().message();
  ::close(*mine);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto open = OpenDirectory(dir_, DirectoryUse::kPrivate, false);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(open.status().message().find("writable by others (mode 777)"), std::string::npos)
      << open.status().message();
  auto shared = OpenDirectory(dir_, DirectoryUse::kShared, false);  // ours: fine for a log
  ASSERT_TRUE(shared.ok());
  ::close(*shared);
  ASSERT_EQ(::symlink(dir_.c_str(), (dir_ + "-link").c_str()), 0);
  auto link = OpenDirectory(dir_ + "-link", DirectoryUse::kPrivate, false);
  ASSERT_FALSE(link.ok());  // kappa's own directory: never through a symlink
  EXPECT_EQ(link.status().code(), StatusCode::kPermissionDenied);
  auto named = OpenDirectory(dir_ + "-link", DirectoryUse::kShared, false);  // one the user named
  ::unlink((dir_ + "-link").c_str());
  ASSERT_TRUE(named.ok()) << named.status().message();
  ::close(*named);
  auto made = OpenDirectory(dir_ + "/new", DirectoryUse::kPrivate, /*create=*/true);
  ASSERT_TRUE(made.ok()) << made.status().message();
  ::close(*made);
}

TEST_F(FilesTest, ShouldRefuseDirectoriesAndFilesOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make files of another user";
  const std::string theirs = dir_ + "/theirs";
  ASSERT_EQ(::mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  auto d = OpenDirectory(theirs, DirectoryUse::kShared, false);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("owned by another user (uid 65534)"), std::string::npos)
      << d.status().message();
  ASSERT_EQ(::chmod(theirs.c_str(), 01777), 0);  // sticky, like /tmp: fine for a log's directory
  auto sticky = OpenDirectory(theirs, DirectoryUse::kShared, false);
  ASSERT_TRUE(sticky.ok()) << sticky.status().message();
  ::close(*sticky);
  EXPECT_FALSE(OpenDirectory(theirs, DirectoryUse::kPrivate, false).ok());
  const std::string file = dir_ + "/their-file";
  ASSERT_TRUE(WriteFileAtomically(file, "x", DirectoryUse::kPrivate).ok());
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
  auto read = ReadOwnFile(file);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace kappa::base
