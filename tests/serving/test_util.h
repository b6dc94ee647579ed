// Helpers shared by the serving tests.
#pragma once

#include <dirent.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "serving/namespace.h"
#include "serving/schema.h"

namespace kappa::serving::testing {

// A unique namespace directory under /dev/shm, removed with everything in it when the object
// goes.
class TempNamespace {
 public:
  TempNamespace() {
    static std::atomic<int> counter{0};
    path_ = "/dev/shm/kappa-test-views-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter.fetch_add(1));
    Remove();
  }
  // A namespace at `path` (its parent must exist).
  explicit TempNamespace(std::string path) : path_(std::move(path)) { Remove(); }
  ~TempNamespace() { Remove(); }
  const std::string& path() const { return path_; }
  std::unique_ptr<Namespace> Open() const {
    auto ns = Namespace::Open(path_);
    if (!ns.ok()) return nullptr;
    return std::move(ns).value();
  }

 private:
  void Remove() const {
    if (DIR* d = ::opendir(path_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
          ::unlink((path_ + "/" + e->d_name).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(path_.c_str());
  }
  std::string path_;
};

// A small tmpfs of its own, to fill up (disk-full tests): mounted at a new directory under /tmp,
// unmounted and removed when the object goes. Needs root; ok() is false (and why() says why)
// where it cannot be mounted, and the test skips.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(std::uint64_t bytes) {
    char dir[] = "/tmp/kappa-test-small-fs-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
      why_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    path_ = dir;
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      why_ = std::string("cannot mount a tmpfs (needs root): ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  bool ok() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string why_;
  bool mounted_ = false;
};

inline Schema MakeSchema(std::vector<Field> fields) { return std::move(Schema::Make(std::move(fields))).value(); }

// A value record of one i64 field.
inline std::vector<std::byte> I64Value(std::int64_t v) {
  std::vector<std::byte> b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}
inline std::int64_t AsI64(std::span<const std::byte> b, std::size_t at = 0) {
  std::int64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}

}  // namespace kappa::serving::testing
