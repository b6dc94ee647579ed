// A temporary directory for tests of every module.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace kappa::testing {

// A fresh directory under `parent` (0700), removed with everything in it (directories too,
// symbolic links as links) when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& parent = "/tmp") {
    std::string t = parent + "/kappa-test-XXXXXX";
    path_ = ::mkdtemp(t.data()) ? t : std::string();
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& str() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace kappa::testing
