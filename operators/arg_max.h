// Every record of a window whose score is the window's highest, per key: SQL's join of a window's
// rows with the window's MAX (`ON score = max_score`), so all the tied records, not one of them.
//
// A (key, window) keeps only the records at its highest score so far (a higher one drops them),
// in arrival order; when the watermark passes the window's end they are emitted, each once.
// Lateness follows WindowAggregator: a late record within the allowed lateness that ties the
// window's max is emitted when the watermark next advances; one that beats it is emitted too
// (what was emitted before cannot be taken back: a list keeps both).
//
// With `include_end`, a window [start, end) also meets the records at its end instant itself,
// as candidates: they are emitted with it if they equal its max, but never set it (the nexmark
// SQL's `dateTime BETWEEN window_end - size AND window_end`, both ends included). The window is
// then emitted once the watermark has passed its end instant.
//
// Scores are totally ordered (integers, or floating point without NaN). Keys are emitted in the
// order of their bytes (integers: by value), so that a replay and a restore emit what the live
// run emitted.
//
// Thread safety: none; one instance per partition, owned by its thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "operators/batch.h"
#include "operators/bytes.h"
#include "operators/window.h"
#include "operators/window_aggregator.h"

namespace kappa::operators {

template <class K, class T, class Windows, class ScoreFn>
class WindowArgMax {
 public:
  using Score = std::decay_t<std::invoke_result_t<const ScoreFn&, const T&>>;
  static_assert(std::is_arithmetic_v<Score>, "ArgMax scores are numbers");
  struct Row {
    T record;
    std::uint64_t offset;
    Score score;
  };
  struct Group {
    bool has_max = false;  // a record of the window itself came
    Score max{};
    // Not yet emitted: the records at max, and the candidates (records at the window's end
    // instant, which never set the max) at or above it.
    std::vector<Row> rows;
  };
  using Groups = std::map<K, Group, KeyLess>;

  WindowArgMax(ScoreFn score, Windows windows, std::int64_t allowed_lateness = 0,
               bool include_end = false)
      : score_(std::move(score)),
        windows_(windows),
        allowed_lateness_(allowed_lateness),
        include_end_(include_end) {}

  // Offers a record with event time `time` to each of its windows still open at `watermark`
  // (the watermark just before it), and with include_end to the windows ending at `time`. False
  // if none took it: the record is late.
  bool Add(const K& key, const T& record, std::int64_t time, std::uint64_t offset,
           std::int64_t watermark) {
    const Score score = score_(record);
    bool accepted = false;
    windows_.Assign(time, [&](const Window& w) {
      if (Closed(w, watermark)) return;
      accepted = true;
      Group& g = open_[w.start][key];
      if (!g.has_max || score > g.max) {
        g.has_max = true;
        g.max = score;
        std::erase_if(g.rows, [&](const Row& r) { return r.score < score; });
      } else if (score < g.max) {
        return;
      }
      g.rows.push_back(Row{record, offset, score});
    });
    if (include_end_) {
      windows_.Assign(time - 1, [&](const Window& w) {
        if (w.end != time || Closed(w, watermark)) return;
        accepted = true;
        Group& g = open_[w.start][key];
        if (g.has_max && score < g.max) return;
        g.rows.push_back(Row{record, offset, score});
      });
    }
    if (!accepted) ++late_;
    return accepted;
  }

  // Emits, oldest window first and by key, the records at the max of each window whose end (with
  // include_end, its end instant) the watermark has passed: emit(const K&, const Window&,
  // const T&, uint64_t offset). Then forgets windows past their allowed lateness.
  template <class Emit>
  void AdvanceTo(std::int64_t watermark, Emit&& emit) {
    for (auto it = open_.begin(); it != open_.end();) {
      const Window w{it->first, it->first + windows_.size()};
      if (Until(w) > watermark) break;
      for (auto& [key, g] : it->second) {
        if (!g.has_max) continue;
        std::erase_if(g.rows, [&](const Row& r) {
          if (r.score != g.max) return false;
          emit(key, w, r.record, r.offset);
          return true;
        });
      }
      if (Closed(w, watermark)) {
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The window's last instant: a result's event time.
  std::int64_t LastInstant(const Window& w) const { return Until(w) - 1; }

  std::uint64_t late_records() const { return late_; }
  std::size_t open_windows() const { return open_.size(); }

  // The state as bytes (late count, then each window's groups and their rows), and state put back
  // from them; Restore is false, with the state unusable, if `in` is not what Snapshot wrote.
  void Snapshot(std::string* out) const {
    PutValue(*out, late_);
    PutValue(*out, static_cast<std::uint64_t>(open_.size()));
    for (const auto& [start, groups] : open_) {
      PutValue(*out, start);
      PutValue(*out, static_cast<std::uint64_t>(groups.size()));
      for (const auto& [key, g] : groups) {
        PutValue(*out, key);
        PutValue(*out, static_cast<std::uint8_t>(g.has_max));
        PutValue(*out, g.max);
        PutValue(*out, static_cast<std::uint64_t>(g.rows.size()));
        for (const Row& r : g.rows) PutValue(*out, r);
      }
    }
  }
  bool Restore(std::string_view in) {
    open_.clear();
    std::uint64_t windows = 0;
    if (!TakeValue(in, &late_) || !TakeValue(in, &windows)) return false;
    for (std::uint64_t w = 0; w < windows; ++w) {
      std::int64_t start = 0;
      std::uint64_t n = 0;
      if (!TakeValue(in, &start) || !TakeValue(in, &n)) return false;
      Groups& groups = open_[start];
      for (std::uint64_t i = 0; i < n; ++i) {
        K key;
        std::uint8_t has_max = 0;
        Group g;
        std::uint64_t rows = 0;
        if (!TakeValue(in, &key) || !TakeValue(in, &has_max) || !TakeValue(in, &g.max) ||
            !TakeValue(in, &rows) || rows > in.size() / sizeof(Row))
          return false;
        g.has_max = has_max != 0;
        g.rows.resize(rows);
        for (Row& r : g.rows) {
          if (!TakeValue(in, &r)) return false;
        }
        groups[key] = std::move(g);
      }
    }
    return in.empty();
  }

 private:
  // The watermark at which a window is due: once it has passed the end (with include_end, the
  // end instant itself).
  std::int64_t Until(const Window& w) const { return include_end_ ? w.end + 1 : w.end; }
  // True once the watermark has passed Until(w) + allowed lateness (no overflow near the ends).
  bool Closed(const Window& w, std::int64_t watermark) const {
    if (watermark < kNoWatermark + allowed_lateness_) return false;
    return Until(w) <= watermark - allowed_lateness_;
  }

  ScoreFn score_;
  Windows windows_;
  std::int64_t allowed_lateness_;
  bool include_end_;
  std::map<std::int64_t, Groups> open_;
  std::uint64_t late_ = 0;
};

}  // namespace kappa::operators
