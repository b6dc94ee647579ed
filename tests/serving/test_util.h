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
#include "tests/small_filesystem.h"

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

using kappa::testing::SmallFilesystem;

inline Schema MakeSchema(std::vector<Field> fields) {
  return std::move(Schema::Make(std::move(fields))).value();
}

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
