// UntilJoin: the state of a keyed stream–stream join in which each left record (an auction, say)
// collects the right records with its key (its bids) whose event time lies between its own time
// and its deadline (an event time, such as the auction's expiry), keeping the best of them by
// better(candidate, best) (the first of equals, in the order they came). Once the watermark passes
// the deadline, the left record comes out with its best right record, or with none.
//
//   UntilJoin<std::int64_t, Auction, Bid, HigherPrice> join{HigherPrice{}};
//   join.AddLeft(a.id, a, time, a.expires, offset, emit);       // an auction opens
//   if (!join.AddRight(b.auction, b, time, offset, watermark_before_the_record)) ++late;
//   join.Advance(watermark, emit);    // auctions whose deadline the watermark passed come out
//   // emit(const K& key, const Auction&, const Bid* best or nullptr, deadline, offset)
//
// A key has one open left record: a later one closes the earlier one at once (it comes out
// then). Right records that come before their left record wait for it until the watermark
// passes their own time: after that, no left record at or before them can come. Advance reports
// in order of deadline, then key. `offset` is each record's place in its stream (a log offset); a
// result reports the later of its left record's and its best right record's.
//
// Thread safety: none; each partition of an operator owns its state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

namespace kappa::operators {

template <class K, class L, class R, class Better>
class UntilJoin {
  static_assert(std::is_trivially_copyable_v<L> && std::is_trivially_copyable_v<R>,
                "records are fixed-layout structs");

 public:
  // An open left record and the best right record it has met: what a checkpoint holds of it.
  struct Open {
    L left;
    std::int64_t time;
    std::int64_t deadline;
    std::uint64_t offset;
    R best;
    std::uint64_t best_offset;
    bool has_best;
  };
  // A right record waiting for its left record.
  struct Early {
    K key;
    R right;
    std::int64_t time;
    std::uint64_t offset;
  };

  explicit UntilJoin(Better better) : better_(std::move(better)) {}

  // Opens `left` (event time `time`, deadline `deadline`) under `key`, closing (emitting) the
  // key's open left record if it has one, and offers it the right records waiting for it.
  template <class Emit>
  void AddLeft(const K& key, const L& left, std::int64_t time, std::int64_t deadline,
               std::uint64_t offset, Emit&& emit) {
    if (auto it = open_.find(key); it != open_.end()) Close(it, emit);
    Open& o = open_.emplace(key, Open{left, time, deadline, offset, R{}, 0, false}).first->second;
    deadlines_.emplace(deadline, key);
    for (const Early& e : early_) {
      if (e.key == key) Offer(o, e.right, e.time, e.offset);
    }
  }
  // Offers `right` to its key's open left record, or keeps it for a left record still to come
  // unless the watermark before it (`watermark`) has passed its time. False in that case: a late
  // record, whose left record has closed or will never come.
  bool AddRight(const K& key, const R& right, std::int64_t time, std::uint64_t offset,
                std::int64_t watermark) {
    if (auto it = open_.find(key); it != open_.end()) {
      Offer(it->second, right, time, offset);
      return true;
    }
    if (time < watermark) return false;
    early_.push_back(Early{key, right, time, offset});
    return true;
  }
  // Emits every open left record whose deadline is before `watermark`, and forgets the right
  // records waiting whose time is before it.
  template <class Emit>
  void Advance(std::int64_t watermark, Emit&& emit) {
    while (!deadlines_.empty() && deadlines_.begin()->first < watermark) {
      const K k = deadlines_.begin()->second;
      Close(open_.find(k), emit);
    }
    std::erase_if(early_, [&](const Early& e) { return e.time < watermark; });
  }

  // Emits every open left record now, in order of deadline then key (the end of a bounded
  // input); the right records waiting stay.
  template <class Emit>
  void CloseAll(Emit&& emit) {
    while (!deadlines_.empty()) Close(open_.find(deadlines_.begin()->second), emit);
  }

  std::size_t open() const { return open_.size(); }
  std::size_t waiting() const { return early_.size(); }
  // fn(key, const Open&) for each open left record, in key order, and fn(const Early&) for each
  // right record waiting, in the order they came: what a checkpoint holds.
  template <class Fn>
  void ForEachOpen(Fn&& fn) const {
    for (const auto& [k, o] : open_) fn(k, o);
  }
  template <class Fn>
  void ForEachWaiting(Fn&& fn) const {
    for (const Early& e : early_) fn(e);
  }
  void RestoreOpen(const K& key, const Open& o) {
    open_.insert_or_assign(key, o);
    deadlines_.emplace(o.deadline, key);
  }
  void RestoreWaiting(const Early& e) { early_.push_back(e); }
  void Clear() {
    open_.clear();
    deadlines_.clear();
    early_.clear();
  }

 private:
  void Offer(Open& o, const R& right, std::int64_t t, std::uint64_t offset) {
    if (t < o.time || t > o.deadline) return;
    if (o.has_best && !better_(right, o.best)) return;
    o.best = right;
    o.best_offset = offset;
    o.has_best = true;
  }
  template <class Emit>
  void Close(typename std::map<K, Open>::iterator it, Emit& emit) {
    const Open& o = it->second;
    emit(it->first, o.left, o.has_best ? &o.best : static_cast<const R*>(nullptr), o.deadline,
         std::max(o.offset, o.has_best ? o.best_offset : 0));
    deadlines_.erase({o.deadline, it->first});
    open_.erase(it);
  }

  Better better_;
  std::map<K, Open> open_;
  std::set<std::pair<std::int64_t, K>> deadlines_;
  std::vector<Early> early_;
};

}  // namespace kappa::operators
