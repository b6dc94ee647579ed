// FlatMap: operator state keyed by a small fixed-size key (open addressing, linear probing,
// backward-shift deletion, so no tombstones). Keys and values are trivially copyable, so a map
// is checkpointed as bytes and restored exactly.
//
// Iteration order is a function of the sequence of inserts and erases alone (the hash is fixed),
// so two runs over the same input visit entries in the same order.
//
// Thread safety: none; each partition of an operator owns its maps.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "operators/hash.h"

namespace kappa::operators {

template <class K>
struct KeyHash {
  std::uint64_t operator()(const K& k) const {
    if constexpr (std::is_integral_v<K>) {
      return HashValue(static_cast<std::uint64_t>(k));
    } else {
      return HashValue(std::string_view(reinterpret_cast<const char*>(&k), sizeof k));
    }
  }
};

template <class K, class V, class Hash = KeyHash<K>>
class FlatMap {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);

 public:
  explicit FlatMap(std::size_t expected = 16) {
    Rehash(std::bit_ceil(std::max<std::size_t>(16, expected * 2)));
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return slots_.size(); }

  // Starts fetching the line where `key`'s probe begins: call it a few keys ahead of Find or
  // Insert, so that the misses of consecutive random keys overlap.
  void Prefetch(const K& key) const {
    __builtin_prefetch(&slots_[hash_(key) & (slots_.size() - 1)], 1, 3);
  }

  V* Find(const K& key) {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash_(key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (Same(s.key, key)) return &s.value;
    }
  }
  const V* Find(const K& key) const { return const_cast<FlatMap*>(this)->Find(key); }

  // The value of `key`, inserted as `init` if absent; .second tells whether it was.
  std::pair<V*, bool> Insert(const K& key, const V& init) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Rehash(slots_.size() * 2);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash_(key) & mask;
    for (; slots_[i].used; i = (i + 1) & mask) {
      if (Same(slots_[i].key, key)) return {&slots_[i].value, false};
    }
    Slot& s = slots_[i];
    s.used = 1;
    s.key = key;
    s.value = init;
    ++size_;
    return {&s.value, true};
  }

  bool Erase(const K& key) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash_(key) & mask;
    for (;; i = (i + 1) & mask) {
      if (!slots_[i].used) return false;
      if (Same(slots_[i].key, key)) break;
    }
    // Backward shift: move later entries of the cluster into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
      const std::size_t home = hash_(slots_[j].key) & mask;
      // Entry j may move to i if i lies cyclically in [home, j).
      const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].used = 0;
    --size_;
    return true;
  }

  void Clear() {
    for (Slot& s : slots_) s.used = 0;
    size_ = 0;
  }

  // fn(const K&, V&) for every entry, in slot order.
  template <class Fn>
  void ForEach(Fn&& fn) {
    for (Slot& s : slots_)
      if (s.used) fn(static_cast<const K&>(s.key), s.value);
  }
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (const Slot& s : slots_)
      if (s.used) fn(s.key, s.value);
  }

 private:
  // Key, value and flag side by side: one probe, one cache line (for small entries).
  struct Slot {
    K key;
    V value;
    std::uint8_t used;
  };

  static bool Same(const K& a, const K& b) {
    if constexpr (std::is_integral_v<K>) {
      return a == b;
    } else {
      return std::memcmp(&a, &b, sizeof(K)) == 0;
    }
  }

  void Rehash(std::size_t capacity) {
    std::vector<Slot> slots(capacity);
    for (Slot& s : slots) s.used = 0;
    const std::size_t mask = capacity - 1;
    for (const Slot& old : slots_) {
      if (!old.used) continue;
      std::size_t j = hash_(old.key) & mask;
      while (slots[j].used) j = (j + 1) & mask;
      slots[j] = old;
    }
    slots_ = std::move(slots);
  }

  Hash hash_;
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace kappa::operators
