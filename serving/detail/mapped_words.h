// Atomic access to words of a mapped view file, and word-wise copies in and out of it.
//
// Readers map files read-only and only ever load through these.
//
// Header-only, so that serving/view_reader.h stays header-only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kappa::serving::detail {

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

// Mapped words. Readers map files read-only and only ever load through these; const_cast is
// sound because a load never writes.
inline std::uint64_t LoadRelaxed(const std::uint64_t& w) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w))
      .load(std::memory_order_relaxed);
}
inline std::uint32_t LoadRelaxed(const std::uint32_t& w) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(w))
      .load(std::memory_order_relaxed);
}
inline std::int64_t LoadRelaxed(const std::int64_t& w) {
  return std::atomic_ref<std::int64_t>(const_cast<std::int64_t&>(w))
      .load(std::memory_order_relaxed);
}
// acquire: everything the writer wrote before its release store of this word is visible.
inline std::uint64_t LoadAcquire(const std::uint64_t& w) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w))
      .load(std::memory_order_acquire);
}
inline void StoreRelaxed(std::uint64_t& w, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_relaxed);
}
inline void StoreRelaxed(std::uint32_t& w, std::uint32_t v) {
  std::atomic_ref<std::uint32_t>(w).store(v, std::memory_order_relaxed);
}
inline void StoreRelaxed(std::int64_t& w, std::int64_t v) {
  std::atomic_ref<std::int64_t>(w).store(v, std::memory_order_relaxed);
}
// release: everything written before is visible to a reader that acquires this word.
inline void StoreRelease(std::uint64_t& w, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(w).store(v, std::memory_order_release);
}

// Word-wise copies to and from mapped bytes, each mapped word one atomic relaxed access (a
// seqlock's payload: the seq check around it rejects a torn copy). The mapped side must be
// 8-byte aligned; the private side may have any alignment. n is a multiple of 8.
inline void CopyFromShared(void* dst, const std::byte* src, std::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = reinterpret_cast<const std::uint64_t*>(src);
  for (std::size_t i = 0; i < n / 8; ++i) {
    const std::uint64_t w = LoadRelaxed(s[i]);
    std::memcpy(d + 8 * i, &w, 8);
  }
}
inline void CopyToShared(std::byte* dst, const void* src, std::size_t n) {
  auto* d = reinterpret_cast<std::uint64_t*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  for (std::size_t i = 0; i < n / 8; ++i) {
    std::uint64_t w;
    std::memcpy(&w, s + 8 * i, 8);
    StoreRelaxed(d[i], w);
  }
}
inline void ZeroShared(std::byte* dst, std::size_t n) {
  auto* d = reinterpret_cast<std::uint64_t*>(dst);
  for (std::size_t i = 0; i < n / 8; ++i) StoreRelaxed(d[i], 0);
}

}  // namespace kappa::serving::detail
