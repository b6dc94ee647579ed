// Records: fixed-layout structs that pipelines read from logs and write to views, registered
// with a schema (field names and types) so that views, the CLI and other languages can decode
// them without the C++ type.
//
//   struct Bid {
//     std::int64_t auction;
//     std::int64_t bidder;
//     std::int64_t price;
//     std::int64_t date_time;
//     char channel[16];
//   };
//   KAPPA_RECORD(Bid, 3, auction, bidder, price, date_time, channel);   // 3: its memlog type
//   KAPPA_NAMED_RECORD(Bid, "bid", 3, auction, ...);   // also its name in a log's catalog
//
// at namespace scope outside any namespace (the type named as seen from there). The macros
// write the specialization of RecordType<T> that can also be written by hand (for a field
// named otherwise than its member, say):
//
//   template <>
//   struct kappa::engine::RecordType<Bid> {
//     static constexpr const char* kName = "bid";    // optional
//     static constexpr std::uint16_t kLogType = 3;   // the memlog record type that carries it
//     static constexpr auto kFields = std::make_tuple(
//         kappa::engine::Member("auction", &Bid::auction),
//         kappa::engine::Member("bidder", &Bid::bidder), ...);
//   };
//
// A record's layout must be the schema's: fields in declaration order, each 8-byte aligned,
// numbers as std::int64_t, std::uint64_t or double, strings as char[N] with N a multiple of 8.
// RecordSchema<T>() checks this and says what is wrong.
//
// A record type may also have a tail: text that follows the record in a log record's payload,
// of any length (NEXMark's `extra` padding, say):
//
//   KAPPA_RECORD_TAIL(Bid, "extra");
//
// Pipelines then read payloads of sizeof(T) bytes or more (the record; the tail is skipped);
// without a tail, only payloads of exactly sizeof(T). The log's catalog names the tail, so
// that tools show it as a text field after the others. A pipeline that needs the tail reads
// WithTail<T, N> instead of T (below): each record with up to N bytes of its tail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "memlog/format.h"
#include "serving/schema.h"
#include "serving/status.h"

namespace kappa::engine {

template <class T>
struct RecordType;  // specialize for each record type (see above)

// The name of T's tail, or nullptr if it has none (see above).
template <class T>
struct RecordTail {
  static constexpr const char* kName = nullptr;
};

// Whether a log record's payload of `size` bytes holds a T (and perhaps its tail).
template <class T>
constexpr bool PayloadFits(std::size_t size) {
  return RecordTail<T>::kName != nullptr ? size >= sizeof(T) : size == sizeof(T);
}

template <class T>
concept Record = std::is_trivially_copyable_v<T> && requires {
  { RecordType<T>::kLogType } -> std::convertible_to<std::uint16_t>;
  RecordType<T>::kFields;
};

// A record with its tail, as a source reads it: Source::Read<WithTail<Bid, 88>>() gives each
// bid with its tail's first tail_size bytes (the rest of `tail` zeros). A record whose tail is
// longer than N is malformed (counted in the job's stats), never cut. Only a pipeline's source
// reads it (not a join's side, not a sink: results copy what they need of the tail).
template <class T, std::size_t N>
struct WithTail {
  static_assert(RecordTail<T>::kName != nullptr,
                "WithTail<T, N>: T has no tail (KAPPA_RECORD_TAIL)");
  T record;
  std::uint64_t tail_size;
  char tail[N];
  std::string_view tail_text() const { return std::string_view(tail, tail_size); }
};
template <class T, std::size_t N>
struct RecordType<WithTail<T, N>> {
  static constexpr std::uint16_t kLogType = RecordType<T>::kLogType;
  static constexpr auto kFields = RecordType<T>::kFields;
};
template <class T>
inline constexpr bool kIsWithTail = false;
template <class T, std::size_t N>
inline constexpr bool kIsWithTail<WithTail<T, N>> = true;

template <class T, class M>
struct MemberField {
  const char* name;
  M T::*member;
};
template <class T, class M>
constexpr MemberField<T, M> Member(const char* name, M T::*member) {
  return {name, member};
}

namespace detail {

template <class T, class M>
std::size_t OffsetOf(M T::*member) {
  static const T object{};
  return static_cast<std::size_t>(reinterpret_cast<const unsigned char*>(&(object.*member)) -
                                  reinterpret_cast<const unsigned char*>(&object));
}

template <class M>
serving::Field FieldFor(const char* name) {
  if constexpr (std::is_same_v<M, std::int64_t>) {
    return serving::Field::I64(name);
  } else if constexpr (std::is_same_v<M, std::uint64_t>) {
    return serving::Field::U64(name);
  } else if constexpr (std::is_same_v<M, double>) {
    return serving::Field::F64(name);
  } else if constexpr (std::is_array_v<M> && std::is_same_v<std::remove_extent_t<M>, char>) {
    return serving::Field::String(name, static_cast<std::uint32_t>(std::extent_v<M>));
  } else {
    static_assert(sizeof(M) == 0,
                  "record fields are std::int64_t, std::uint64_t, double or char[N]");
  }
}

}  // namespace detail

// The name record type T goes by in a log's catalog (engine/record_catalog.h):
// RecordType<T>::kName if it declares one (`static constexpr const char* kName = "bid";`),
// else "record<N>" after its log type.
template <Record T>
std::string RecordName() {
  if constexpr (requires { RecordType<T>::kName; }) {
    return RecordType<T>::kName;
  } else {
    return "record" + std::to_string(RecordType<T>::kLogType);
  }
}

// The schema of record type T, checked against its C++ layout.
template <Record T>
serving::Result<serving::Schema> RecordSchema() {
  std::vector<serving::Field> fields;
  std::vector<std::size_t> offsets;
  std::apply(
      [&](const auto&... f) {
        (fields.push_back(
             detail::FieldFor<std::remove_cvref_t<decltype(std::declval<T>().*(f.member))>>(
                 f.name)),
         ...);
        (offsets.push_back(detail::OffsetOf(f.member)), ...);
      },
      RecordType<T>::kFields);
  auto schema = serving::Schema::Make(std::move(fields));
  if (!schema.ok()) return schema.status();
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    if (schema->field(i).offset != offsets[i])
      return serving::Status::Error(serving::StatusCode::kInvalidArgument,
                                    "record field '" + schema->field(i).name + "' is at byte " +
                                        std::to_string(offsets[i]) + ", its schema puts it at " +
                                        std::to_string(schema->field(i).offset) +
                                        " (fields go in order, each 8-byte aligned)");
  }
  if (schema->value_size() != sizeof(T))
    return serving::Status::Error(serving::StatusCode::kInvalidArgument,
                                  "record is " + std::to_string(sizeof(T)) + " bytes, its schema " +
                                      std::to_string(schema->value_size()) +
                                      " (no other members, no padding)");
  return schema;
}

}  // namespace kappa::engine

// KAPPA_RECORD(T, LOG_TYPE, FIELD...) and KAPPA_NAMED_RECORD(T, NAME, LOG_TYPE, FIELD...): see
// the top of this file. Up to 64 fields.
#define KAPPA_RECORD(T, log_type, ...)                                                     \
  template <>                                                                              \
  struct kappa::engine::RecordType<T> {                                                    \
    static constexpr std::uint16_t kLogType = log_type;                                    \
    static constexpr auto kFields = std::make_tuple(KAPPA_RECORD_MEMBERS(T, __VA_ARGS__)); \
  };                                                                                       \
  static_assert(!kappa::memlog::IsReservedType(log_type),                                  \
                "record type " #log_type " is reserved for kappa's own records")
#define KAPPA_NAMED_RECORD(T, name, log_type, ...)                                         \
  template <>                                                                              \
  struct kappa::engine::RecordType<T> {                                                    \
    static constexpr const char* kName = name;                                             \
    static constexpr std::uint16_t kLogType = log_type;                                    \
    static constexpr auto kFields = std::make_tuple(KAPPA_RECORD_MEMBERS(T, __VA_ARGS__)); \
  };                                                                                       \
  static_assert(!kappa::memlog::IsReservedType(log_type),                                  \
                "record type " #log_type " is reserved for kappa's own records")

#define KAPPA_RECORD_TAIL(T, name)             \
  template <>                                  \
  struct kappa::engine::RecordTail<T> {        \
    static constexpr const char* kName = name; \
  }

// Member(#f, &T::f) for each field f, separated by commas.
#define KAPPA_RECORD_MEMBERS(T, ...) \
  __VA_OPT__(KAPPA_RECORD_EXPAND(KAPPA_RECORD_MEMBERS_NEXT(T, __VA_ARGS__)))
#define KAPPA_RECORD_MEMBERS_NEXT(T, f, ...) \
  ::kappa::engine::Member(#f, &T::f)         \
      __VA_OPT__(, KAPPA_RECORD_MEMBERS_AGAIN KAPPA_RECORD_PARENS(T, __VA_ARGS__))
#define KAPPA_RECORD_MEMBERS_AGAIN() KAPPA_RECORD_MEMBERS_NEXT
#define KAPPA_RECORD_PARENS ()
#define KAPPA_RECORD_EXPAND(...) \
  KAPPA_RECORD_EXPAND16(         \
      KAPPA_RECORD_EXPAND16(KAPPA_RECORD_EXPAND16(KAPPA_RECORD_EXPAND16(__VA_ARGS__))))
#define KAPPA_RECORD_EXPAND16(...) \
  KAPPA_RECORD_EXPAND4(            \
      KAPPA_RECORD_EXPAND4(KAPPA_RECORD_EXPAND4(KAPPA_RECORD_EXPAND4(__VA_ARGS__))))
#define KAPPA_RECORD_EXPAND4(...) \
  KAPPA_RECORD_EXPAND1(           \
      KAPPA_RECORD_EXPAND1(KAPPA_RECORD_EXPAND1(KAPPA_RECORD_EXPAND1(__VA_ARGS__))))
#define KAPPA_RECORD_EXPAND1(...) __VA_ARGS__
