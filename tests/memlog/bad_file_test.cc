// Files that are not (valid) logs get a clear error naming the file, never a crash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "memlog/format.h"
#include "memlog/log.h"
#include "tests/memlog/test_util.h"

namespace kappa::memlog {
namespace {

using testing::TempPath;

void WriteFile(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string ReadFile(const std::string& path) {
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st;
  ::fstat(fd, &st);
  s.resize(st.st_size);
  EXPECT_EQ(::pread(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
  ::close(fd);
  return s;
}

// A valid log image to damage.
std::string ValidImage(const TempPath& p) {
  CreateOptions o;
  o.capacity = 4096;
  {
    auto log = Log::Create(p.str(), o);
    EXPECT_TRUE(log.ok());
  }
  return ReadFile(p.str());
}

void ExpectOpenFails(const std::string& path, const std::string& needle) {
  auto log = Log::Open(path);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find(path), std::string::npos) << log.status().message();
  EXPECT_NE(log.status().message().find(needle), std::string::npos) << log.status().message();
}

TEST(BadFileTest, ShouldRejectMissingFile) {
  TempPath p;
  auto log = Log::Open(p.str());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kNotFound);
}

TEST(BadFileTest, ShouldRejectEmptyAndShortFiles) {
  TempPath p;
  WriteFile(p.str(), "");
  ExpectOpenFails(p.str(), "shorter than");
  WriteFile(p.str(), std::string(100, 'k'));
  ExpectOpenFails(p.str(), "shorter than");
}

TEST(BadFileTest, ShouldRejectWrongMagic) {
  TempPath p;
  std::string image = ValidImage(p);
  image[0] = 'X';
  WriteFile(p.str(), image);
  ExpectOpenFails(p.str(), "bad magic");
}

TEST(BadFileTest, ShouldRejectWrongVersion) {
  TempPath p;
  std::string image = ValidImage(p);
  const std::uint32_t version = 99;
  std::memcpy(image.data() + offsetof(SuperBlock, version), &version, 4);
  WriteFile(p.str(), image);
  ExpectOpenFails(p.str(), "format version 99");
}

TEST(BadFileTest, ShouldRejectDamagedHeader) {
  TempPath p;
  std::string image = ValidImage(p);
  image[offsetof(SuperBlock, salt)] ^= 1;
  WriteFile(p.str(), image);
  ExpectOpenFails(p.str(), "checksum");
}

TEST(BadFileTest, ShouldRejectSizesBeyondTheFile) {
  TempPath p;
  std::string image = ValidImage(p);
  WriteFile(p.str(), image.substr(0, image.size() - 512));  // truncated ring
  ExpectOpenFails(p.str(), "bytes but its header describes");
  WriteFile(p.str(), image + std::string(4096, '\0'));  // grown
  ExpectOpenFails(p.str(), "bytes but its header describes");
}

TEST(BadFileTest, ShouldRejectInconsistentPositions) {
  TempPath p;
  std::string image = ValidImage(p);
  const std::uint64_t tail = 1 << 20;  // more than one ring ahead of head
  std::memcpy(image.data() + offsetof(LogHeader, tail), &tail, 8);
  WriteFile(p.str(), image);
  ExpectOpenFails(p.str(), "inconsistent");
}

TEST(BadFileTest, ShouldRefuseSymlinks) {
  TempPath target, link;
  ValidImage(target);
  ASSERT_EQ(::symlink(target.str().c_str(), link.str().c_str()), 0);
  ExpectOpenFails(link.str(), "symbolic link");
  auto created = Log::Create(link.str(), {});
  ASSERT_FALSE(created.ok());
}

TEST(BadFileTest, ShouldRejectDirectories) {
  TempPath p;
  ASSERT_EQ(::mkdir(p.str().c_str(), 0700), 0);
  auto log = Log::Open(p.str());
  ::rmdir(p.str().c_str());
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("directory"), std::string::npos) << log.status().message();
}

TEST(BadFileTest, ShouldOpenReadOnlyFileOnlyReadOnly) {
  TempPath p;
  ValidImage(p);
  ASSERT_EQ(::chmod(p.str().c_str(), 0400), 0);
  if (::geteuid() == 0) {
    // root bypasses permission bits; the read-only open path is still exercised below.
  } else {
    auto rw = Log::Open(p.str());
    ASSERT_FALSE(rw.ok());
    EXPECT_EQ(rw.status().code(), StatusCode::kPermissionDenied);
  }
  OpenOptions ro;
  ro.read_only = true;
  auto log = Log::Open(p.str(), ro);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_TRUE((*log)->read_only());
}

}  // namespace
}  // namespace kappa::memlog
