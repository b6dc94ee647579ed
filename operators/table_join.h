// TableJoin: the table side of a keyed stream–table join. The right stream is a changelog: each
// of its records replaces its key's row; a left record meets the row its key has at the left
// record's place in the stream (as of then: a later update does not change what it met).
//
//   TableJoin<std::int64_t, Person> people(1 << 16);
//   people.Update(p.id, p);                                  // a right record
//   if (const Person* p = people.Find(a.seller)) { ... }     // a left record meets its row
//
// Thread safety: none; each partition of an operator owns its state.
#pragma once

#include <cstddef>
#include <type_traits>

#include "operators/flat_map.h"

namespace kappa::operators {

template <class K, class R>
class TableJoin {
  static_assert(std::is_trivially_copyable_v<R>, "records are fixed-layout structs");

 public:
  explicit TableJoin(std::size_t expected_keys) : rows_(expected_keys) {}

  // `right` becomes the row of `key`.
  void Update(const K& key, const R& right) { *rows_.Insert(key, right).first = right; }
  // The row of `key`, or nullptr if none came yet. Valid until the next Update.
  const R* Find(const K& key) { return rows_.Find(key); }

  std::size_t size() const { return rows_.size(); }
  // fn(key, row) for every row (what a checkpoint holds; Update puts them back).
  template <class Fn>
  void ForEach(Fn&& fn) const {
    rows_.ForEach([&](const K& k, const R& row) { fn(k, row); });
  }

 private:
  FlatMap<K, R> rows_;
};

}  // namespace kappa::operators
