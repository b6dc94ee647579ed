// View names, namespace paths and view file names.
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "serving/format.h"
#include "serving/status.h"

namespace kappa::serving::detail {

// View and alias names: 1 to 63 of [A-Za-z0-9_.-], not starting with '.'.
inline bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxViewName || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}
inline Status BadName(std::string_view name) {
  return Status::Error(StatusCode::kInvalidArgument,
                       "bad view name '" + std::string(name) +
                           "': use 1 to 63 of A-Z a-z 0-9 _ . - (not starting with '.')");
}

// Where namespaces live: $KAPPA_VIEW_DIR, else /dev/shm/kappa/views.
inline std::string NamespaceRoot() {
  const char* dir = std::getenv("KAPPA_VIEW_DIR");
  return dir && *dir ? std::string(dir) : std::string("/dev/shm/kappa/views");
}
inline constexpr char kDefaultNamespace[] = "default";
// A bare name (no '/') is a namespace under NamespaceRoot(); anything else is a directory path.
// The empty name is the default namespace.
inline std::string NamespacePath(std::string_view ns) {
  if (ns.empty()) ns = kDefaultNamespace;
  if (ns.find('/') != std::string_view::npos) return std::string(ns);
  return NamespaceRoot() + "/" + std::string(ns);
}

// "<name>@<version>.<generation>.view", or "<name>@<version>#<shard>.<generation>.view" for a
// shard of a sharded version.
inline std::string ViewFileName(std::string_view name, std::uint32_t version,
                                std::uint32_t generation, std::uint32_t shard = 0,
                                std::uint32_t shard_count = 1) {
  std::string f = std::string(name) + "@" + std::to_string(version);
  if (shard_count > 1) f += "#" + std::to_string(shard);
  return f + "." + std::to_string(generation) + ".view";
}

// Copies a NUL-terminated name out of a fixed array that another process may have written:
// never reads past the array.
template <std::size_t N>
inline std::string FixedString(const char (&s)[N]) {
  return std::string(s, ::strnlen(s, N));
}

}  // namespace kappa::serving::detail
