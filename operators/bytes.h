// Little helpers to write operator state into checkpoint bytes and read it back.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace kappa::operators {

template <class T>
void PutValue(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
inline void PutBytes(std::string& out, std::string_view bytes) {
  PutValue(out, static_cast<std::uint64_t>(bytes.size()));
  out.append(bytes);
}

// Readers: false (and nothing taken) if `in` is too short.
template <class T>
bool TakeValue(std::string_view& in, T* v) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (in.size() < sizeof(T)) return false;
  std::memcpy(v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}
inline bool TakeBytes(std::string_view& in, std::string_view* bytes) {
  std::uint64_t n = 0;
  std::string_view copy = in;
  if (!TakeValue(copy, &n) || n > copy.size()) return false;
  *bytes = copy.substr(0, n);
  copy.remove_prefix(n);
  in = copy;
  return true;
}

}  // namespace kappa::operators
