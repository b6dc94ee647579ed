// Aggregations: how keyed and windowed operators fold records into state.
//
// One small interface, which the built-ins below and user-defined aggregates share:
//
//   struct MyAggregate {
//     using Input = ...;    // what Add folds in (for built-ins, the record type)
//     using Acc = ...;      // the state per key (and window): trivially copyable, because it is
//                           // checkpointed as bytes and kept in flat tables
//     using Output = ...;   // what the operator emits
//     Acc Init() const;
//     void Add(Acc& acc, const Input& in) const;
//     void Merge(Acc& into, const Acc& from) const;   // for merging windows and partial states
//     Output Result(const Acc& acc) const;
//   };
//
// Built-ins take an extractor that picks the value out of a record, through factories that
// deduce its type (tests/operators/aggregate_test.cc compiles these lines):
//   Count<Bid>{}, MakeSum<Bid>([](const Bid& b) { return b.price; }), MakeMax<Bid>(...),
//   MakeAvg<Bid>(...), MakeDistinctCount<Bid, 12>([](const Bid& b) { return b.bidder; }),
//   MakeQuantiles<Bid>(...), MakeTopK<Bid, 10>(value, id).
// Every Add and Result is deterministic: the same inputs in the same order give the same bytes.
//
// An aggregation whose Result is its accumulator (count, sum, min, max) says so with
// `static constexpr bool kResultIsAcc = true`: the engine then keeps its state in the view
// itself, one update per record, instead of a state table and a view.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "operators/ddsketch.h"
#include "operators/hash.h"
#include "operators/hyperloglog.h"

namespace kappa::operators {

template <class A>
concept ResultIsAcc = requires {
  requires A::kResultIsAcc;
  requires std::is_same_v<typename A::Acc, typename A::Output>;
};

template <class A>
concept Aggregation = requires(const A a, typename A::Acc& acc, const typename A::Acc& other,
                               const typename A::Input& in) {
  typename A::Input;
  typename A::Acc;
  typename A::Output;
  { a.Init() } -> std::same_as<typename A::Acc>;
  a.Add(acc, in);
  a.Merge(acc, other);
  { a.Result(other) } -> std::convertible_to<typename A::Output>;
}
&&std::is_trivially_copyable_v<typename A::Acc>;

template <class In>
struct Count {
  using Input = In;
  using Acc = std::int64_t;
  using Output = std::int64_t;
  static constexpr bool kResultIsAcc = true;
  Acc Init() const { return 0; }
  void Add(Acc& acc, const Input&) const { ++acc; }
  void Merge(Acc& into, const Acc& from) const { into += from; }
  Output Result(const Acc& acc) const { return acc; }
};

// The value type an extractor returns for a record.
template <class In, class F>
using Extracted = std::decay_t<std::invoke_result_t<const F&, const In&>>;

template <class In, class F>
struct Sum {
  using Input = In;
  using Acc = Extracted<In, F>;
  using Output = Acc;
  static constexpr bool kResultIsAcc = true;
  F extract;
  Acc Init() const { return Acc{}; }
  void Add(Acc& acc, const Input& in) const { acc += extract(in); }
  void Merge(Acc& into, const Acc& from) const { into += from; }
  Output Result(const Acc& acc) const { return acc; }
};

// Min and Max: Result of an empty state is the type's highest (Min) or lowest (Max) value.
template <class In, class F>
struct Min {
  using Input = In;
  using Acc = Extracted<In, F>;
  using Output = Acc;
  static constexpr bool kResultIsAcc = true;
  F extract;
  Acc Init() const { return std::numeric_limits<Acc>::max(); }
  void Add(Acc& acc, const Input& in) const { acc = std::min(acc, static_cast<Acc>(extract(in))); }
  void Merge(Acc& into, const Acc& from) const { into = std::min(into, from); }
  Output Result(const Acc& acc) const { return acc; }
};

template <class In, class F>
struct Max {
  using Input = In;
  using Acc = Extracted<In, F>;
  using Output = Acc;
  static constexpr bool kResultIsAcc = true;
  F extract;
  Acc Init() const { return std::numeric_limits<Acc>::lowest(); }
  void Add(Acc& acc, const Input& in) const { acc = std::max(acc, static_cast<Acc>(extract(in))); }
  void Merge(Acc& into, const Acc& from) const { into = std::max(into, from); }
  Output Result(const Acc& acc) const { return acc; }
};

struct AvgAcc {
  double sum = 0;
  std::int64_t count = 0;
};

template <class In, class F>
struct Avg {
  using Input = In;
  using Acc = AvgAcc;
  using Output = double;
  F extract;
  Acc Init() const { return {}; }
  void Add(Acc& acc, const Input& in) const {
    acc.sum += static_cast<double>(extract(in));
    ++acc.count;
  }
  void Merge(Acc& into, const Acc& from) const {
    into.sum += from.sum;
    into.count += from.count;
  }
  // 0 for an empty state.
  Output Result(const Acc& acc) const {
    return acc.count == 0 ? 0 : acc.sum / static_cast<double>(acc.count);
  }
};

// Distinct values (their 64-bit hashes) counted by a HyperLogLog of 2^P registers: standard
// error 1.04 / sqrt(2^P) (1.6 % at P = 12, 4 KiB of state per key).
template <class In, int P, class F>
struct DistinctCount {
  using Input = In;
  using Acc = HyperLogLog<P>;
  using Output = std::int64_t;
  F extract;
  Acc Init() const { return {}; }
  void Add(Acc& acc, const Input& in) const { acc.Add(HashValue(extract(in))); }
  void Merge(Acc& into, const Acc& from) const { into.Merge(from); }
  Output Result(const Acc& acc) const { return static_cast<std::int64_t>(acc.Estimate() + 0.5); }
};

// Quantiles of a numeric value, by a DDSketch with relative accuracy 1 %: Result is the sketch,
// to ask for any quantile (sketch.Quantile(0.99)).
template <class In, class F>
struct Quantiles {
  using Input = In;
  using Acc = DDSketch;
  using Output = DDSketch;
  F extract;
  Acc Init() const { return {}; }
  void Add(Acc& acc, const Input& in) const { acc.Add(static_cast<double>(extract(in))); }
  void Merge(Acc& into, const Acc& from) const { into.Merge(from); }
  Output Result(const Acc& acc) const { return acc; }
};

// The K largest values seen, each with the id of what it belongs to (one entry per id, keeping
// its largest value); ties go to the smaller id.
template <int K>
struct TopKAcc {
  struct Entry {
    double value;
    std::uint64_t id;
  };
  std::int32_t size = 0;
  Entry entries[K];  // sorted: largest value first

  // Offers (value, id); keeps the K largest, one per id.
  void Offer(double value, std::uint64_t id) {
    int at = -1;
    for (int i = 0; i < size; ++i) {
      if (entries[i].id == id) {
        if (!Better(value, id, entries[i])) return;
        at = i;
        break;
      }
    }
    if (at < 0) {
      if (size < K) {
        at = size++;
      } else if (Better(value, id, entries[K - 1])) {
        at = K - 1;
      } else {
        return;
      }
    }
    entries[at] = Entry{value, id};
    while (at > 0 && Better(entries[at].value, entries[at].id, entries[at - 1])) {
      std::swap(entries[at], entries[at - 1]);
      --at;
    }
  }
  static bool Better(double value, std::uint64_t id, const Entry& than) {
    return value > than.value || (value == than.value && id < than.id);
  }
};

template <class In, int K, class V, class I>
struct TopK {
  static_assert(K > 0);
  using Input = In;
  using Acc = TopKAcc<K>;
  using Output = TopKAcc<K>;
  V value;
  I id;
  Acc Init() const { return {}; }
  void Add(Acc& acc, const Input& in) const {
    acc.Offer(static_cast<double>(value(in)), static_cast<std::uint64_t>(id(in)));
  }
  void Merge(Acc& into, const Acc& from) const {
    for (int i = 0; i < from.size; ++i) into.Offer(from.entries[i].value, from.entries[i].id);
  }
  Output Result(const Acc& acc) const { return acc; }
};

// Factories, so that callers name only the record type:
//   auto total = MakeSum<Bid>([](const Bid& b) { return b.price; });
template <class In, class F>
Sum<In, F> MakeSum(F f) {
  return {std::move(f)};
}
template <class In, class F>
Min<In, F> MakeMin(F f) {
  return {std::move(f)};
}
template <class In, class F>
Max<In, F> MakeMax(F f) {
  return {std::move(f)};
}
template <class In, class F>
Avg<In, F> MakeAvg(F f) {
  return {std::move(f)};
}
template <class In, int P = 12, class F>
DistinctCount<In, P, F> MakeDistinctCount(F f) {
  return {std::move(f)};
}
template <class In, class F>
Quantiles<In, F> MakeQuantiles(F f) {
  return {std::move(f)};
}
template <class In, int K, class V, class I>
TopK<In, K, V, I> MakeTopK(V value, I id) {
  return {std::move(value), std::move(id)};
}

}  // namespace kappa::operators
