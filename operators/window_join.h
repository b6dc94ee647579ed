// WindowJoin: the state of a windowed keyed stream–stream join. Left and right records of one key
// that fall in one event-time window (tumbling or hopping: operators/window.h) meet when the
// watermark passes the window's end; a left outer join also reports each left record that met no
// right record in its window.
//
//   WindowJoin<std::int64_t, Person, Auction, TumblingWindows> join(TumblingWindows(10s),
//                                                                   JoinKind::kInner);
//   join.AddLeft(p.id, offset, p, time, watermark_before_the_record);
//   join.AddRight(a.seller, offset, a, time, watermark_before_the_record);
//   join.Fire(watermark, [&](const Window& w, std::int64_t key, const Person& p,
//                            const Auction* a, std::uint64_t offset) { ... });
//
// Order of what Fire reports: windows oldest first; within a window, keys in the order of their
// bits as an unsigned 64-bit integer; a key's pairs in the order their left records came, each
// left record's in the order the right records came; a left outer join's unmatched left records
// after the window's pairs, in key order. So results depend only on the records and their order,
// not on when Fire is called. `offset` is each record's place in its stream (a log offset); a
// pair reports the later of its two, an unmatched left record its own.
//
// Thread safety: none; each partition of an operator owns its state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "operators/window.h"

namespace kappa::operators {

enum class JoinKind : std::uint8_t {
  kInner,      // pairs only
  kLeftOuter,  // pairs, and each left record that met nothing (with no right record)
};

template <class K, class L, class R, class Windows>
class WindowJoin {
  static_assert(std::is_integral_v<K>, "window join keys are integers");
  static_assert(std::is_trivially_copyable_v<L> && std::is_trivially_copyable_v<R>,
                "records are fixed-layout structs");

 public:
  // A record in a window: what a checkpoint holds of it.
  template <class T>
  struct Entry {
    K key;
    std::uint64_t offset;
    T record;
  };

  WindowJoin(Windows windows, JoinKind kind) : windows_(windows), kind_(kind) {}

  const Windows& windows() const { return windows_; }
  // Windows open (holding a record, not fired yet).
  std::size_t open_windows() const { return open_.size(); }

  // Puts a record of event time `time` into each window that holds it and has not ended by
  // `watermark` (the watermark before the record). False if all those windows have ended: a
  // late record, which joins nothing.
  bool AddLeft(const K& key, std::uint64_t offset, const L& left, std::int64_t time,
               std::int64_t watermark) {
    return Add(time, watermark, [&](Pending& p) { p.left.push_back({key, offset, left}); });
  }
  bool AddRight(const K& key, std::uint64_t offset, const R& right, std::int64_t time,
                std::int64_t watermark) {
    return Add(time, watermark, [&](Pending& p) { p.right.push_back({key, offset, right}); });
  }

  // Joins every window that ended at or before `watermark` and forgets it: calls
  // meet(const Window&, const K& key, const L&, const R* (nullptr: unmatched), std::uint64_t
  // offset) in the order the header states. ahead(const K& key, const Window&) is called a few
  // left records before meet reaches them, for a caller whose writes are random in the key (to
  // start fetching the memory they will touch).
  template <class Meet, class Ahead>
  void Fire(std::int64_t watermark, Meet&& meet, Ahead&& ahead) {
    while (!open_.empty() && open_.begin()->first + windows_.size() <= watermark) {
      auto node = open_.extract(open_.begin());
      const Window w{node.key(), node.key() + windows_.size()};
      Pending& p = node.mapped();
      SortByKey(p.left, scratch_left_);
      SortByKey(p.right, scratch_right_);
      Join(w, p, meet, ahead);
      p.left.clear();
      p.right.clear();
      spare_.push_back(std::move(p));
    }
  }
  template <class Meet>
  void Fire(std::int64_t watermark, Meet&& meet) {
    Fire(watermark, meet, [](const K&, const Window&) {});
  }

  // fn(window start, span of left entries, span of right entries) for each open window, oldest
  // first, entries in the order they came: what a checkpoint holds. Restore puts one back.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [start, p] : open_)
      fn(start, std::span<const Entry<L>>(p.left), std::span<const Entry<R>>(p.right));
  }
  void Restore(std::int64_t start, std::vector<Entry<L>> left, std::vector<Entry<R>> right) {
    Pending& p = OpenWindow(start);
    p.left = std::move(left);
    p.right = std::move(right);
  }
  void Clear() { open_.clear(); }

 private:
  struct Pending {
    std::vector<Entry<L>> left;
    std::vector<Entry<R>> right;
  };
  static std::uint64_t Bits(const K& k) { return static_cast<std::uint64_t>(k); }

  template <class Put>
  bool Add(std::int64_t time, std::int64_t watermark, Put&& put) {
    if (windows_.LastEnd(time) <= watermark) return false;  // every window holding it has ended
    windows_.Assign(time, [&](const Window& w) {
      if (w.end > watermark) put(OpenWindow(w.start));
    });
    return true;
  }

  // The window starting at `start`, opened (with vectors kept from a fired one) if new.
  Pending& OpenWindow(std::int64_t start) {
    auto it = open_.find(start);
    if (it != open_.end()) return it->second;
    Pending p;
    if (!spare_.empty()) {
      p = std::move(spare_.back());
      spare_.pop_back();
    }
    return open_.emplace(start, std::move(p)).first->second;
  }

  // p.left and p.right sorted by key (log order within a key): a merge.
  template <class Meet, class Ahead>
  void Join(const Window& w, const Pending& p, Meet& meet, Ahead& ahead) {
    constexpr std::size_t kAhead = 16;
    std::size_t i = 0, j = 0, fetched = 0;
    while (i < p.left.size() && j < p.right.size()) {
      for (; fetched < std::min(i + kAhead, p.left.size()); ++fetched)
        ahead(p.left[fetched].key, w);
      const std::uint64_t ki = Bits(p.left[i].key), kj = Bits(p.right[j].key);
      if (ki < kj) {
        ++i;
      } else if (kj < ki) {
        ++j;
      } else {
        std::size_t j_end = j;
        while (j_end < p.right.size() && Bits(p.right[j_end].key) == ki) ++j_end;
        for (; i < p.left.size() && Bits(p.left[i].key) == ki; ++i) {
          for (std::size_t r = j; r < j_end; ++r)
            meet(w, p.left[i].key, p.left[i].record, &p.right[r].record,
                 std::max(p.left[i].offset, p.right[r].offset));
        }
        j = j_end;
      }
    }
    if (kind_ != JoinKind::kLeftOuter) return;
    std::size_t r = 0;
    for (const Entry<L>& l : p.left) {
      const std::uint64_t k = Bits(l.key);
      while (r < p.right.size() && Bits(p.right[r].key) < k) ++r;
      if (r < p.right.size() && Bits(p.right[r].key) == k) continue;
      meet(w, l.key, l.record, static_cast<const R*>(nullptr), l.offset);
    }
  }

  // Orders `entries` by key, keeping their order within a key: sorts 16-byte (key, index) pairs,
  // then moves each entry once (through `scratch`), instead of moving entries while sorting.
  template <class E>
  void SortByKey(std::vector<E>& entries, std::vector<E>& scratch) {
    order_.resize(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) order_[i] = {Bits(entries[i].key), i};
    std::sort(order_.begin(), order_.end());
    scratch.clear();
    scratch.reserve(entries.size());
    for (const auto& [key, i] : order_) scratch.push_back(entries[i]);
    entries.swap(scratch);
  }

  Windows windows_;
  JoinKind kind_;
  std::map<std::int64_t, Pending> open_;
  std::vector<Pending> spare_;
  std::vector<std::pair<std::uint64_t, std::size_t>> order_;  // SortByKey's, kept for their memory
  std::vector<Entry<L>> scratch_left_;
  std::vector<Entry<R>> scratch_right_;
};

}  // namespace kappa::operators
