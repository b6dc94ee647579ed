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
  explicit FlatMap(std::size_t expected = 16) { Rehash(std::bit_ceil(std::max<std::size_t>(16, expected * 2))); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return keys_.size(); }

  V* Find(const K& key) {
    const std::size_t mask = keys_.size() - 1;
    for (std::size_t i = hash_(key) & mask;; i = (i + 1) & mask) {
      if (!used_[i]) return nullptr;
      if (Same(keys_[i], key)) return &values_[i];
    }
  }
  const V* Find(const K& key) const { return const_cast<FlatMap*>(this)->Find(key); }

  // The value of `key`, inserted as `init` if absent; .second tells whether it was.
  std::pair<V*, bool> Insert(const K& key, const V& init) {
    if ((size_ + 1) * 10 > keys_.size() * 7) Rehash(keys_.size() * 2);
    const std::size_t mask = keys_.size() - 1;
    std::size_t i = hash_(key) & mask;
    for (; used_[i]; i = (i + 1) & mask) {
      if (Same(keys_[i], key)) return {&values_[i], false};
    }
    used_[i] = 1;
    keys_[i] = key;
    values_[i] = init;
    ++size_;
    return {&values_[i], true};
  }

  bool Erase(const K& key) {
    const std::size_t mask = keys_.size() - 1;
    std::size_t i = hash_(key) & mask;
    for (;; i = (i + 1) & mask) {
      if (!used_[i]) return false;
      if (Same(keys_[i], key)) break;
    }
    // Backward shift: move later entries of the cluster into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask; used_[j]; j = (j + 1) & mask) {
      const std::size_t home = hash_(keys_[j]) & mask;
      // Entry j may move to i if i lies cyclically in [home, j).
      const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        keys_[i] = keys_[j];
        values_[i] = values_[j];
        i = j;
      }
    }
    used_[i] = 0;
    --size_;
    return true;
  }

  void Clear() {
    std::fill(used_.begin(), used_.end(), 0);
    size_ = 0;
  }

  // fn(const K&, V&) for every entry, in slot order.
  template <class Fn>
  void ForEach(Fn&& fn) {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (used_[i]) fn(static_cast<const K&>(keys_[i]), values_[i]);
  }
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (used_[i]) fn(keys_[i], values_[i]);
  }

 private:
  static bool Same(const K& a, const K& b) {
    if constexpr (std::is_integral_v<K>) {
      return a == b;
    } else {
      return std::memcmp(&a, &b, sizeof(K)) == 0;
    }
  }

  void Rehash(std::size_t capacity) {
    std::vector<K> keys(capacity);
    std::vector<V> values(capacity);
    std::vector<std::uint8_t> used(capacity, 0);
    const std::size_t mask = capacity - 1;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (!used_[i]) continue;
      std::size_t j = hash_(keys_[i]) & mask;
      while (used[j]) j = (j + 1) & mask;
      used[j] = 1;
      keys[j] = keys_[i];
      values[j] = values_[i];
    }
    keys_ = std::move(keys);
    values_ = std::move(values);
    used_ = std::move(used);
  }

  Hash hash_;
  std::vector<K> keys_;
  std::vector<V> values_;
  std::vector<std::uint8_t> used_;
  std::size_t size_ = 0;
};

}  // namespace kappa::operators
