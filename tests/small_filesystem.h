// A small tmpfs for disk-full tests, shared by the test suites of every module.
#pragma once

#include <errno.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kappa::testing {

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

}  // namespace kappa::testing
