// OutputCodec: how an operator's result becomes a view's value record (and its schema).
//
//   integers      one i64 field (named by the sink's value_name, default "value")
//   floats        one f64 field
//   records       the record's own schema (RecordType<T>)
//   DDSketch      count, min, max, p50, p90, p99, p999
//   TopKAcc<K>    size, then id_i (u64) and value_i (f64) for i < K
//   SessionResult<O>  session_start, session_end, then O's fields
//   KeyedResult<K, O> the key (named by the sink's key_name), then O's fields
//   WindowResult<K, O> the key, window_start, window_end, then O's fields
//
// Each codec: Schema(value_name, key_name) and Encode(value, bytes) (bytes of the schema's
// value size).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/record.h"
#include "engine/results.h"
#include "operators/aggregate.h"
#include "serving/schema.h"

namespace kappa::engine::detail {

template <class O, class = void>
struct OutputCodec;

template <class O>
struct OutputCodec<O, std::enable_if_t<std::is_arithmetic_v<O>>> {
  static serving::Result<serving::Schema> Schema(const std::string& value_name,
                                                 const std::string& = "key") {
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
  static serving::Result<serving::Schema> Schema(const std::string&, const std::string& = "key") {
    return RecordSchema<O>();
  }
  static void Encode(const O& v, std::span<std::byte> out) {
    std::memcpy(out.data(), &v, sizeof v);
  }
};

template <>
struct OutputCodec<operators::DDSketch> {
  static serving::Result<serving::Schema> Schema(const std::string&, const std::string& = "key") {
    using serving::Field;
    return serving::Schema::Make({Field::I64("count"), Field::F64("min"), Field::F64("max"),
                                  Field::F64("p50"), Field::F64("p90"), Field::F64("p99"),
                                  Field::F64("p999")});
  }
  static void Encode(const operators::DDSketch& s, std::span<std::byte> out) {
    const std::int64_t count = static_cast<std::int64_t>(s.count);
    const double v[6] = {s.count ? s.min : 0, s.count ? s.max : 0, s.Quantile(0.5),
                         s.Quantile(0.9),     s.Quantile(0.99),    s.Quantile(0.999)};
    std::memcpy(out.data(), &count, 8);
    std::memcpy(out.data() + 8, v, sizeof v);
  }
};

template <int K>
struct OutputCodec<operators::TopKAcc<K>> {
  static serving::Result<serving::Schema> Schema(const std::string&, const std::string& = "key") {
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

// A session's result: the session's extent and its aggregate.
template <class O>
struct SessionResult {
  std::int64_t start;
  std::int64_t end;
  O value;
};

using engine::KeyedResult;
using engine::WindowResult;

// `prefix`, then the fields of `rest`, laid out again after them.
inline serving::Result<serving::Schema> PrefixSchema(std::vector<serving::Field> prefix,
                                                     serving::Result<serving::Schema> rest) {
  if (!rest.ok()) return rest.status();
  for (serving::Field f : rest->fields()) {
    f.offset = 0;
    prefix.push_back(std::move(f));
  }
  return serving::Schema::Make(std::move(prefix));
}

template <class O>
struct OutputCodec<SessionResult<O>> {
  static serving::Result<serving::Schema> Schema(const std::string& value_name,
                                                 const std::string& key_name = "key") {
    return PrefixSchema({serving::Field::I64("session_start"), serving::Field::I64("session_end")},
                        OutputCodec<O>::Schema(value_name, key_name));
  }
  static void Encode(const SessionResult<O>& r, std::span<std::byte> out) {
    std::memcpy(out.data(), &r.start, 8);
    std::memcpy(out.data() + 8, &r.end, 8);
    OutputCodec<O>::Encode(r.value, out.subspan(16));
  }
};

template <class K, class O>
struct OutputCodec<KeyedResult<K, O>> {
  static_assert(std::is_integral_v<K> && sizeof(K) <= 8, "keys are integers");
  static serving::Result<serving::Schema> Schema(const std::string& value_name,
                                                 const std::string& key_name = "key") {
    return PrefixSchema(
        {std::is_signed_v<K> ? serving::Field::I64(key_name) : serving::Field::U64(key_name)},
        OutputCodec<O>::Schema(value_name, key_name));
  }
  static void Encode(const KeyedResult<K, O>& r, std::span<std::byte> out) {
    if constexpr (std::is_signed_v<K>) {
      const auto k = static_cast<std::int64_t>(r.key);
      std::memcpy(out.data(), &k, 8);
    } else {
      const auto k = static_cast<std::uint64_t>(r.key);
      std::memcpy(out.data(), &k, 8);
    }
    OutputCodec<O>::Encode(r.value, out.subspan(8));
  }
};

template <class K, class O>
struct OutputCodec<WindowResult<K, O>> {
  static_assert(std::is_integral_v<K> && sizeof(K) <= 8, "keys are integers");
  static serving::Result<serving::Schema> Schema(const std::string& value_name,
                                                 const std::string& key_name = "key") {
    return PrefixSchema(
        {std::is_signed_v<K> ? serving::Field::I64(key_name) : serving::Field::U64(key_name),
         serving::Field::I64("window_start"), serving::Field::I64("window_end")},
        OutputCodec<O>::Schema(value_name, key_name));
  }
  static void Encode(const WindowResult<K, O>& r, std::span<std::byte> out) {
    OutputCodec<KeyedResult<K, std::int64_t>>::Encode({r.key, r.start}, out);
    std::memcpy(out.data() + 16, &r.end, 8);
    OutputCodec<O>::Encode(r.value, out.subspan(24));
  }
};

}  // namespace kappa::engine::detail
