// View files and registries that are not valid get a clear error naming the file, never a crash
// or a read out of bounds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "serving/detail/view_shape.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"
#include "tests/serving/test_util.h"

namespace kappa::serving {
namespace {

using testing::I64Value;
using testing::MakeSchema;
using testing::TempNamespace;

std::string ReadFile(const std::string& path) {
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st;
  ::fstat(fd, &st);
  s.resize(static_cast<std::size_t>(st.st_size));
  EXPECT_EQ(::pread(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
  ::close(fd);
  return s;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// A namespace holding view "v" (version 1, no writer attached); the test damages its file.
class BadViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = t_.Open();
    KeyedTableOptions o;
    o.schema = MakeSchema({Field::I64("a"), Field::String("s", 12)});
    auto w = std::move(KeyedTableWriter::Create(*ns, "v", 1, o)).value();
    std::vector<std::byte> value(w->schema().value_size());
    ASSERT_EQ(w->Upsert(1, value, 1), WriteResult::kOk);
    w.reset();
    path_ = t_.path() + "/v@1.0.view";
    image_ = ReadFile(path_);
  }

  // Applies `edit` to the descriptor (re-checksummed unless told not to) and writes the image.
  void Damage(const std::function<void(ViewDescriptor&)>& edit, bool fix_checksum = true) {
    std::string img = image_;
    ViewDescriptor d;
    std::memcpy(&d, img.data(), sizeof d);
    edit(d);
    if (fix_checksum) d.checksum = detail::DescriptorChecksum(d);
    std::memcpy(img.data(), &d, sizeof d);
    WriteFile(path_, img);
  }

  void ExpectOpenFails(const std::string& needle, StatusCode code = StatusCode::kCorrupt) {
    auto r = ViewReader::Open(t_.path(), "v");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status().message();
    EXPECT_NE(r.status().message().find(path_), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  }

  TempNamespace t_;
  std::string path_;
  std::string image_;
};

TEST_F(BadViewTest, ShouldOpenTheUndamagedImage) {
  WriteFile(path_, image_);
  auto r = ViewReader::Open(t_.path(), "v");
  ASSERT_TRUE(r.ok()) << r.status().message();
}

TEST_F(BadViewTest, ShouldRejectEmptyAndShortFiles) {
  WriteFile(path_, "");
  ExpectOpenFails("too short");
  WriteFile(path_, image_.substr(0, 100));
  ExpectOpenFails("too short");
  WriteFile(path_, image_.substr(0, image_.size() - 64));  // header intact, slots cut
  ExpectOpenFails("bytes but its header describes");
}

TEST_F(BadViewTest, ShouldRejectWrongMagicVersionAndChecksum) {
  Damage([](ViewDescriptor& d) { d.magic[0] = 'X'; });
  ExpectOpenFails("bad magic");
  Damage([](ViewDescriptor& d) { d.version = 99; });
  ExpectOpenFails("format version 99");
  Damage([](ViewDescriptor& d) { d.capacity = 32; }, /*fix_checksum=*/false);
  ExpectOpenFails("checksum");
}

TEST_F(BadViewTest, ShouldRejectSizesBeyondTheFile) {
  Damage([](ViewDescriptor& d) { d.file_size = d.file_size * 4; });
  ExpectOpenFails("header describes");
  Damage([](ViewDescriptor& d) { d.capacity = std::uint64_t{1} << 32; });
  ExpectOpenFails("layout needs");
  Damage([](ViewDescriptor& d) { d.capacity = 1000; });
  ExpectOpenFails("not a power of two");
  Damage([](ViewDescriptor& d) { d.slot_size = 8; });
  ExpectOpenFails("slot size");
  Damage([](ViewDescriptor& d) { d.slots_offset = 64; });
  ExpectOpenFails("slots offset");
  Damage([](ViewDescriptor& d) { d.value_size = 4000; });
  ExpectOpenFails("value size");
}

TEST_F(BadViewTest, ShouldRejectBadSchemasAndKinds) {
  Damage([](ViewDescriptor& d) { d.kind = 9; });
  ExpectOpenFails("unknown view kind");
  Damage([](ViewDescriptor& d) { d.key_type = 7; });
  ExpectOpenFails("unknown key type");
  Damage([](ViewDescriptor& d) { d.field_count = 40; });
  ExpectOpenFails("field count");
  Damage([](ViewDescriptor& d) { d.fields[1].offset = 4090; });
  ExpectOpenFails("layout does not match");
  Damage([](ViewDescriptor& d) { d.fields[0].type = 42; });
  ExpectOpenFails("unknown type");
  Damage([](ViewDescriptor& d) { std::memset(d.fields[0].name, 'x', sizeof d.fields[0].name); });
  ExpectOpenFails("not terminated");
  Damage([](ViewDescriptor& d) { d.fields[1].size = 100000; });
  ExpectOpenFails("string field");
  Damage([](ViewDescriptor& d) { std::memcpy(d.name, "other", 6); });
  ExpectOpenFails("header names another view");
}

TEST_F(BadViewTest, ShouldRefuseASymlinkADirectoryAndAnotherOwner) {
  const std::string elsewhere = t_.path() + "/elsewhere";
  WriteFile(elsewhere, image_);
  ::unlink(path_.c_str());
  ASSERT_EQ(::symlink(elsewhere.c_str(), path_.c_str()), 0);
  ExpectOpenFails("symbolic link", StatusCode::kPermissionDenied);
  ::unlink(path_.c_str());
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  ExpectOpenFails("directory", StatusCode::kInvalidArgument);
  ::rmdir(path_.c_str());
  WriteFile(path_, image_);
  if (::geteuid() == 0) {  // only root can give a file away
    ASSERT_EQ(::chown(path_.c_str(), 12345, 12345), 0);
    ExpectOpenFails("owned by uid 12345", StatusCode::kPermissionDenied);
  }
}

TEST(BadRegistryTest, ShouldRejectDamagedRegistriesAndNamespaces) {
  TempNamespace t;
  {
    auto ns = t.Open();
    ASSERT_NE(ns, nullptr);
  }
  const std::string reg = t.path() + "/registry";
  const std::string good = ReadFile(reg);
  auto expect_fails = [&](const std::string& needle) {
    auto r = ViewReader::Open(t.path(), "v");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
    auto ns = Namespace::Open(t.path());
    EXPECT_FALSE(ns.ok());
  };
  WriteFile(reg, "");
  expect_fails("too short");
  std::string bad = good;
  bad[0] = 'Z';
  WriteFile(reg, bad);
  expect_fails("bad magic");
  bad = good;
  bad[8] = 2;  // version
  WriteFile(reg, bad);
  expect_fails("format version");
  WriteFile(reg, good.substr(0, good.size() / 2));
  expect_fails("bytes, expected");
  bad = good;
  bad[20] = 1;  // max_aliases, without fixing the checksum
  WriteFile(reg, bad);
  expect_fails("checksum");
  // The namespace directory itself as a symlink, or a file.
  const std::string link = t.path() + "-link";
  ::unlink(link.c_str());
  ASSERT_EQ(::symlink(t.path().c_str(), link.c_str()), 0);
  auto r = ViewReader::Open(link, "v");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos) << r.status().message();
  ::unlink(link.c_str());
  auto not_dir = ViewReader::Open(reg, "v");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_NE(not_dir.status().message().find("not a directory"), std::string::npos)
      << not_dir.status().message();
  auto missing = ViewReader::Open(t.path() + "/nope", "v");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kappa::serving
