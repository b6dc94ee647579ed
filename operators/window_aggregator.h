// Keyed aggregation over event time: running (KeyedAggregator) and windowed
// (WindowAggregator, for tumbling and hopping windows).
//
// Lateness is decided per record against the watermark just before it (Batch::watermarks), so
// the same log gives the same results however it is cut into batches, live or replayed:
//   - a window accepts a record while window.end + allowed_lateness > that watermark;
//   - AdvanceTo(w) emits every window with end <= w that has not been emitted (its result is
//     final unless allowed lateness brings more records, which re-emit it), and forgets windows
//     with end + allowed_lateness <= w.
// A record no window accepts is late: counted, and handed back to the caller (a side log).
//
// Thread safety: none; one instance per partition, owned by its thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "operators/aggregate.h"
#include "operators/batch.h"
#include "operators/bytes.h"
#include "operators/flat_map.h"
#include "operators/window.h"

namespace kappa::operators {

// Orders keys by their bytes (any trivially copyable key without padding).
struct KeyLess {
  template <class K>
  bool operator()(const K& a, const K& b) const {
    if constexpr (std::is_integral_v<K>) {
      return a < b;
    } else {
      return std::memcmp(&a, &b, sizeof(K)) < 0;
    }
  }
};

// Running aggregate per key. Add folds records in; Flush emits each key changed since the last
// Flush once, with the offset of its last record.
template <class K, Aggregation A>
class KeyedAggregator {
 public:
  struct Entry {
    typename A::Acc acc;
    std::uint64_t offset;
    std::uint8_t dirty;
  };

  explicit KeyedAggregator(A aggregate, std::size_t expected_keys = 1024)
      : aggregate_(std::move(aggregate)), state_(expected_keys) {}

  void Add(const K& key, const typename A::Input& in, std::uint64_t offset) {
    auto [entry, inserted] = state_.Insert(key, Entry{aggregate_.Init(), 0, 0});
    aggregate_.Add(entry->acc, in);
    entry->offset = offset;
    if (!entry->dirty) {
      entry->dirty = 1;
      dirty_.push_back(key);
    }
  }

  // Starts fetching key's state (see FlatMap::Prefetch).
  void Prefetch(const K& key) const { state_.Prefetch(key); }

  // emit(const K&, const Output&, uint64_t offset) for each key changed since the last Flush,
  // in the order they first changed. ahead(const K&) is called kLookahead keys before each
  // emit, to prefetch where the result goes.
  static constexpr std::size_t kLookahead = 8;
  template <class Emit, class Ahead>
  void Flush(Emit&& emit, Ahead&& ahead) {
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      if (i + kLookahead < dirty_.size()) ahead(dirty_[i + kLookahead]);
      Entry* e = state_.Find(dirty_[i]);
      e->dirty = 0;
      emit(dirty_[i], aggregate_.Result(e->acc), e->offset);
    }
    dirty_.clear();
  }
  template <class Emit>
  void Flush(Emit&& emit) {
    Flush(std::forward<Emit>(emit), [](const K&) {});
  }

  const typename A::Acc* Find(const K& key) const {
    const Entry* e = state_.Find(key);
    return e ? &e->acc : nullptr;
  }
  std::size_t size() const { return state_.size(); }
  FlatMap<K, Entry>& state() { return state_; }
  const A& aggregate() const { return aggregate_; }

 private:
  A aggregate_;
  FlatMap<K, Entry> state_;
  std::vector<K> dirty_;
};

template <class K, Aggregation A, class Windows>
class WindowAggregator {
 public:
  struct Entry {
    typename A::Acc acc;
    std::uint64_t offset;  // of the last record folded in
    std::uint8_t emitted;  // emitted since its last change
  };
  using Table = FlatMap<K, Entry>;

  WindowAggregator(A aggregate, Windows windows, std::int64_t allowed_lateness = 0)
      : aggregate_(std::move(aggregate)), windows_(windows), allowed_lateness_(allowed_lateness) {}

  // Folds a record with event time `time` into each of its windows still open at `watermark`
  // (the source watermark just before the record). False if none was: the record is late.
  bool Add(const K& key, const typename A::Input& in, std::int64_t time, std::uint64_t offset,
           std::int64_t watermark) {
    bool accepted = false;
    windows_.Assign(time, [&](const Window& w) {
      if (Closed(w, watermark)) return;
      Table& table = Open(w.start);
      auto [entry, inserted] = table.Insert(key, Entry{aggregate_.Init(), 0, 0});
      aggregate_.Add(entry->acc, in);
      entry->offset = offset;
      entry->emitted = 0;
      accepted = true;
    });
    if (!accepted) ++late_;
    return accepted;
  }

  // Emits the results of windows that ended at or before `watermark` (and of those changed by
  // late records since), oldest window first: emit(const K&, const Window&, const Output&,
  // uint64_t offset). Then forgets windows past their allowed lateness.
  template <class Emit>
  void AdvanceTo(std::int64_t watermark, Emit&& emit) {
    for (auto it = open_.begin(); it != open_.end();) {
      const Window w{it->first, it->first + windows_.size()};
      if (w.end > watermark) break;
      it->second.ForEach([&](const K& key, Entry& e) {
        if (e.emitted) return;
        e.emitted = 1;
        emit(key, w, aggregate_.Result(e.acc), e.offset);
      });
      if (Closed(w, watermark)) {
        Forget(it->first);
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::uint64_t late_records() const { return late_; }
  std::size_t open_windows() const { return open_.size(); }
  // The open windows' tables, by window start (for checkpoints).
  std::map<std::int64_t, Table>& windows() { return open_; }
  void set_late_records(std::uint64_t n) { late_ = n; }
  const Windows& assigner() const { return windows_; }
  std::int64_t allowed_lateness() const { return allowed_lateness_; }

 private:
  // True once the watermark has passed w.end + allowed lateness (no overflow near the ends).
  bool Closed(const Window& w, std::int64_t watermark) const {
    if (watermark < kNoWatermark + allowed_lateness_) return false;
    return w.end <= watermark - allowed_lateness_;
  }

  // The table of the window starting at `start`, made if new. Records mostly fall in the few
  // newest windows: a small cache of them skips the map lookup.
  Table& Open(std::int64_t start) {
    for (const CachedWindow& c : cache_) {
      if (c.table != nullptr && c.start == start) return *c.table;
    }
    auto it = open_.find(start);
    if (it == open_.end()) it = open_.emplace(start, Table(64)).first;
    cache_[next_cache_] = CachedWindow{start, &it->second};
    next_cache_ = (next_cache_ + 1) % kCacheSize;
    return it->second;
  }
  void Forget(std::int64_t start) {
    for (CachedWindow& c : cache_) {
      if (c.start == start) c.table = nullptr;
    }
  }

  struct CachedWindow {
    std::int64_t start = 0;
    Table* table = nullptr;
  };
  static constexpr std::size_t kCacheSize = 8;
  CachedWindow cache_[kCacheSize];
  std::size_t next_cache_ = 0;

  A aggregate_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  std::map<std::int64_t, Table> open_;
  std::uint64_t late_ = 0;
};

// Session windows, by the rule of Flink's SESSION windows (and so of the nexmark SQL): each
// record opens [time, time + gap), and windows that overlap or touch merge, so records at most
// `gap` apart in event time belong to one session [first time, last time + gap) (exactly one gap
// apart included); a record that bridges two sessions merges them. A session is emitted once the
// watermark has passed its end (a record at the end itself would still join it); lateness
// follows WindowAggregator.
template <class K, Aggregation A>
class SessionAggregator {
 public:
  struct Session {
    std::int64_t start;
    std::int64_t end;
    typename A::Acc acc;
    std::uint64_t offset;
    bool emitted;
  };

  SessionAggregator(A aggregate, std::int64_t gap, std::int64_t allowed_lateness = 0)
      : aggregate_(std::move(aggregate)), gap_(gap), allowed_lateness_(allowed_lateness) {}

  bool Add(const K& key, const typename A::Input& in, std::int64_t time, std::uint64_t offset,
           std::int64_t watermark) {
    std::vector<Session>& sessions = sessions_[key];
    Session merged{time, time + gap_, aggregate_.Init(), offset, false};
    aggregate_.Add(merged.acc, in);
    // Sessions are kept sorted by start and never touch; gather those the record touches.
    // A session [start, end) takes records at times t with start - gap <= t <= end.
    auto first = sessions.begin();
    while (first != sessions.end() && first->end < time) ++first;
    auto last = first;
    while (last != sessions.end() && last->start <= time + gap_) ++last;
    std::int64_t start = time, end = time + gap_;
    for (auto it = first; it != last; ++it) {
      start = std::min(start, it->start);
      end = std::max(end, it->end);
    }
    if (Closed(end, watermark)) {
      ++late_;
      if (sessions.empty()) sessions_.erase(key);
      return false;
    }
    merged.start = start;
    merged.end = end;
    for (auto it = first; it != last; ++it) aggregate_.Merge(merged.acc, it->acc);
    // Keep the offset of the latest record in log order: this one.
    const auto at = sessions.erase(first, last);
    sessions.insert(at, merged);
    due_.push(Due{end + 1, key});
    return true;
  }

  // Emits sessions that ended before `watermark` and were not emitted since their last change:
  // emit(const K&, const Window&, const Output&, uint64_t offset), in order of end time (then key).
  // Then forgets sessions past their allowed lateness.
  template <class Emit>
  void AdvanceTo(std::int64_t watermark, Emit&& emit) {
    while (!due_.empty() && due_.top().time <= watermark) {
      const K key = due_.top().key;
      due_.pop();
      auto found = sessions_.find(key);
      if (found == sessions_.end()) continue;
      std::vector<Session>& sessions = found->second;
      for (Session& s : sessions) {
        if (s.end >= watermark) break;
        if (!s.emitted) {
          s.emitted = true;
          emit(key, Window{s.start, s.end}, aggregate_.Result(s.acc), s.offset);
        }
      }
      std::erase_if(sessions, [&](const Session& s) { return Closed(s.end, watermark); });
      if (sessions.empty()) {
        sessions_.erase(found);
      } else if (sessions.front().end < watermark) {
        due_.push(Due{sessions.front().end + allowed_lateness_ + 1, key});  // to forget it later
      }
    }
  }

  std::uint64_t late_records() const { return late_; }
  std::size_t keys() const { return sessions_.size(); }

  // The state as bytes (late count, then each key's sessions), and state put back from them;
  // Restore is false, with the state unusable, if `in` is not what Snapshot wrote.
  void Snapshot(std::string* out) const {
    PutValue(*out, late_);
    PutValue(*out, static_cast<std::uint64_t>(sessions_.size()));
    for (const auto& [key, sessions] : sessions_) {
      PutValue(*out, key);
      PutValue(*out, static_cast<std::uint64_t>(sessions.size()));
      for (const Session& s : sessions) PutValue(*out, s);
    }
  }
  bool Restore(std::string_view in) {
    sessions_.clear();
    due_ = {};
    std::uint64_t keys = 0;
    if (!TakeValue(in, &late_) || !TakeValue(in, &keys)) return false;
    for (std::uint64_t k = 0; k < keys; ++k) {
      K key;
      std::uint64_t n = 0;
      if (!TakeValue(in, &key) || !TakeValue(in, &n) || n > in.size() / sizeof(Session))
        return false;
      std::vector<Session>& sessions = sessions_[key];
      sessions.resize(n);
      for (Session& s : sessions) {
        if (!TakeValue(in, &s)) return false;
        // Due to be emitted, or (emitted already) to be forgotten once past the lateness.
        due_.push(Due{s.emitted ? s.end + allowed_lateness_ + 1 : s.end + 1, key});
      }
    }
    return in.empty();
  }

 private:
  struct Due {
    std::int64_t time;
    K key;
    bool operator>(const Due& o) const {
      if (time != o.time) return time > o.time;
      return std::memcmp(&key, &o.key, sizeof(K)) > 0;
    }
  };
  // Past its allowed lateness: no record can join it any more (one at its end still could).
  bool Closed(std::int64_t end, std::int64_t watermark) const {
    if (watermark < kNoWatermark + allowed_lateness_) return false;
    return end < watermark - allowed_lateness_;
  }

  A aggregate_;
  std::int64_t gap_;
  std::int64_t allowed_lateness_;
  std::map<K, std::vector<Session>, KeyLess> sessions_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::uint64_t late_ = 0;
};

}  // namespace kappa::operators
