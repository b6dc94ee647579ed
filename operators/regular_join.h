// RegularJoin: the state of a symmetric keyed inner join, what SQL's plain JOIN means over two
// streams. Both sides are kept, so a record meets every kept record of the other side with its
// key, whether that one came before it or comes after it. State is bounded by a retention in
// event time: a record is kept until the watermark passes its time + retention (then no record
// that is not late can still meet it); a retention of kForever keeps every record.
//
//   RegularJoin<std::int64_t, Auction, Person> join(kForever);
//   join.Expire(watermark_before_the_record);           // per record: independent of batching
//   join.AddLeft(a.seller, a, t, [&](const Auction& a, const Person& p) { ... });
//   join.AddRight(p.id, p, t, [&](const Auction& a, const Person& p) { ... });
//
// A record meets the other side's kept records with its key in the order they came. Expire with
// the watermark before each record (the source-wide per-record watermark) keeps the results the
// same however the log is cut into batches.
//
// Thread safety: none; each partition of an operator owns its state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <queue>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace kappa::operators {

inline constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

template <class K, class L, class R>
class RegularJoin {
  static_assert(std::is_trivially_copyable_v<L> && std::is_trivially_copyable_v<R>,
                "records are fixed-layout structs");

 public:
  enum class Side : std::uint8_t { kLeft, kRight };

  // REQUIRES: retention >= 0.
  explicit RegularJoin(std::int64_t retention) : retention_(retention) {}

  // Keeps `left` (event time `time`) and calls meet(left, right) for each kept right record with
  // key `key`.
  template <class Meet>
  void AddLeft(const K& key, const L& left, std::int64_t time, Meet&& meet) {
    Keys& k = keys_[key];
    for (const Kept<R>& r : k.right) meet(left, r.record);
    Keep(key, k.left, left, time, Side::kLeft);
  }
  // Keeps `right` and calls meet(left, right) for each kept left record with key `key`.
  template <class Meet>
  void AddRight(const K& key, const R& right, std::int64_t time, Meet&& meet) {
    Keys& k = keys_[key];
    for (const Kept<L>& l : k.left) meet(l.record, right);
    Keep(key, k.right, right, time, Side::kRight);
  }

  // Drops the records whose time + retention is before `watermark`.
  void Expire(std::int64_t watermark) {
    while (!expiry_.empty() && expiry_.top().at < watermark) {
      const Expiry e = expiry_.top();
      expiry_.pop();
      auto it = keys_.find(e.key);
      if (it == keys_.end()) continue;
      const bool dropped =
          e.side == Side::kLeft ? Drop(it->second.left, e.seq) : Drop(it->second.right, e.seq);
      if (dropped) --size_;
      if (it->second.left.empty() && it->second.right.empty()) keys_.erase(it);
    }
  }

  // Records kept, of both sides.
  std::size_t size() const { return size_; }
  std::int64_t retention() const { return retention_; }

  // fn(key, side, time, const L* or nullptr, const R* or nullptr) for each kept record, in the
  // order they came: what a checkpoint holds. Restore gives them back in that order.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    struct Ref {
      std::uint64_t seq;
      const K* key;
      const Kept<L>* left;
      const Kept<R>* right;
    };
    std::vector<Ref> all;
    all.reserve(size_);
    for (const auto& [key, k] : keys_) {
      for (const Kept<L>& l : k.left) all.push_back({l.seq, &key, &l, nullptr});
      for (const Kept<R>& r : k.right) all.push_back({r.seq, &key, nullptr, &r});
    }
    std::sort(all.begin(), all.end(), [](const Ref& a, const Ref& b) { return a.seq < b.seq; });
    for (const Ref& r : all) {
      if (r.left) {
        fn(*r.key, Side::kLeft, r.left->time, &r.left->record, static_cast<const R*>(nullptr));
      } else {
        fn(*r.key, Side::kRight, r.right->time, static_cast<const L*>(nullptr), &r.right->record);
      }
    }
  }
  // Keeps a record again without meeting anything (a checkpoint's, in ForEach's order).
  void RestoreLeft(const K& key, const L& left, std::int64_t time) {
    Keep(key, keys_[key].left, left, time, Side::kLeft);
  }
  void RestoreRight(const K& key, const R& right, std::int64_t time) {
    Keep(key, keys_[key].right, right, time, Side::kRight);
  }

 private:
  template <class T>
  struct Kept {
    T record;
    std::int64_t time;
    std::uint64_t seq;  // order of arrival
  };
  struct Keys {
    std::vector<Kept<L>> left;
    std::vector<Kept<R>> right;
  };
  struct Expiry {
    std::int64_t at;  // time + retention
    std::uint64_t seq;
    K key;
    Side side;
    bool operator>(const Expiry& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  template <class T>
  void Keep(const K& key, std::vector<Kept<T>>& into, const T& record, std::int64_t time,
            Side side) {
    const std::uint64_t seq = next_seq_++;
    into.push_back(Kept<T>{record, time, seq});
    ++size_;
    if (retention_ == kForever) return;
    const std::int64_t at = time > kForever - retention_ ? kForever : time + retention_;
    expiry_.push(Expiry{at, seq, key, side});
  }
  template <class T>
  static bool Drop(std::vector<Kept<T>>& from, std::uint64_t seq) {
    auto it =
        std::find_if(from.begin(), from.end(), [&](const Kept<T>& k) { return k.seq == seq; });
    if (it == from.end()) return false;
    from.erase(it);
    return true;
  }

  std::int64_t retention_;
  std::unordered_map<K, Keys> keys_;
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>> expiry_;
  std::uint64_t next_seq_ = 0;
  std::size_t size_ = 0;
};

}  // namespace kappa::operators
