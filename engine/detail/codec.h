// OutputCodec: how an operator's result becomes a view's value record (and its schema).
//
//   integers      one i64 field (named by the sink's value_name, default "value")
//   floats        one f64 field
//   records       the record's own schema (RecordType<T>)
//   DDSketch      count, min, max, p50, p90, p99, p999
//   TopKAcc<K>    size, then id_i (u64) and value_i (f64) for i < K
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "engine/record.h"
#include "operators/aggregate.h"
#include "serving/schema.h"

namespace kappa::engine::detail {

template <class O, class = void>
struct OutputCodec;

template <class O>
struct OutputCodec<O, std::enable_if_t<std::is_arithmetic_v<O>>> {
  static serving::Result<serving::Schema> Schema(const std::string& value_name) {
    return serving::Schema::Make({std::is_floating_point_v<O> ? serving::Field::F64(value_name)
                                                              : serving::Field::I64(value_name)});
  }
  static void Encode(const O& v, std::span<std::byte> out) {
    if constexpr (std::is_floating_point_v<O>) {
      const double d = static_cast<double>(v);
      std::memcpy(out.data(), &d, 8);
    } else {
      const auto i = static_cast<std::int64_t>(v);
      std::memcpy(out.data(), &i, 8);
    }
  }
  static O Decode(std::span<const std::byte> in) {
    if constexpr (std::is_floating_point_v<O>) {
      double d;
      std::memcpy(&d, in.data(), 8);
      return static_cast<O>(d);
    } else {
      std::int64_t i;
      std::memcpy(&i, in.data(), 8);
      return static_cast<O>(i);
    }
  }
};

template <class O>
struct OutputCodec<O, std::enable_if_t<Record<O>>> {
  static serving::Result<serving::Schema> Schema(const std::string&) { return RecordSchema<O>(); }
  static void Encode(const O& v, std::span<std::byte> out) { std::memcpy(out.data(), &v, sizeof v); }
};

template <>
struct OutputCodec<operators::DDSketch> {
  static serving::Result<serving::Schema> Schema(const std::string&) {
    using serving::Field;
    return serving::Schema::Make({Field::I64("count"), Field::F64("min"), Field::F64("max"), Field::F64("p50"),
                                  Field::F64("p90"), Field::F64("p99"), Field::F64("p999")});
  }
  static void Encode(const operators::DDSketch& s, std::span<std::byte> out) {
    const std::int64_t count = static_cast<std::int64_t>(s.count);
    const double v[6] = {s.count ? s.min : 0, s.count ? s.max : 0, s.Quantile(0.5),
                         s.Quantile(0.9), s.Quantile(0.99), s.Quantile(0.999)};
    std::memcpy(out.data(), &count, 8);
    std::memcpy(out.data() + 8, v, sizeof v);
  }
};

template <int K>
struct OutputCodec<operators::TopKAcc<K>> {
  static serving::Result<serving::Schema> Schema(const std::string&) {
    std::vector<serving::Field> f{serving::Field::I64("size")};
    for (int i = 0; i < K; ++i) {
      f.push_back(serving::Field::U64("id_" + std::to_string(i)));
      f.push_back(serving::Field::F64("value_" + std::to_string(i)));
    }
    return serving::Schema::Make(std::move(f));
  }
  static void Encode(const operators::TopKAcc<K>& t, std::span<std::byte> out) {
    const std::int64_t size = t.size;
    std::memcpy(out.data(), &size, 8);
    for (int i = 0; i < K; ++i) {
      const std::uint64_t id = i < t.size ? t.entries[i].id : 0;
      const double value = i < t.size ? t.entries[i].value : 0;
      std::memcpy(out.data() + 8 + 16 * i, &id, 8);
      std::memcpy(out.data() + 16 + 16 * i, &value, 8);
    }
  }
};

}  // namespace kappa::engine::detail
