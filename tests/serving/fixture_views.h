// A fixed set of views, written by C++, that the C ABI and Python tests read back.
//
//   counts    keyed, u64 key "id": id -> {count: 3 id, ratio: id / 4, label: "k<id>"},
//             offset 1000 + id, for id < 100; progress: offset 5000, watermark 777
//   users     keyed, bytes key "user" (up to 16): alice -> 1, bob -> 2, "" is not a key
//   win       windowed, u64 key "auction", 10 ns windows: auction 7 has windows 0, 10, 20 with
//             count 1, 2, 3
//   top       top-K (K = 3, by "count" descending) of keys 1..5 with count 10 * key
//   rows      list: 5 rows {count: i, ratio: i / 2, label: "row <i>"}
//   counts@2  written by AddSecondVersion (not current until flipped): id -> count 3 id + 1
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "serving/view_writer.h"

namespace kappa::serving::testing {

inline bool Refused(std::string* error) {
  *error = "a fixture view refused a write";
  return false;
}

inline Schema FixtureSchema() {
  return std::move(
             Schema::Make({Field::I64("count"), Field::F64("ratio"), Field::String("label", 12)}))
      .value();
}

inline std::vector<std::byte> FixtureValue(const Schema& s, std::int64_t count, double ratio,
                                           const std::string& label) {
  std::vector<std::byte> v(s.value_size());
  s.SetI64(v, 0, count);
  s.SetF64(v, 1, ratio);
  s.SetString(v, 2, label);
  return v;
}

// Returns false (with *error) if anything could not be written.
inline bool WriteFixtureViews(Namespace& ns, std::string* error) {
  const Schema s = FixtureSchema();
  auto fail = [&](const Status& st) {
    *error = st.message();
    return false;
  };
  KeyedTableOptions ko;
  ko.schema = s;
  ko.key_name = "id";
  auto counts = KeyedTableWriter::Create(ns, "counts", 1, ko);
  if (!counts.ok()) return fail(counts.status());
  for (std::uint64_t id = 0; id < 100; ++id)
    if ((*counts)->Upsert(id,
                          FixtureValue(s, static_cast<std::int64_t>(3 * id),
                                       static_cast<double>(id) / 4, "k" + std::to_string(id)),
                          1000 + id) != WriteResult::kOk)
      return Refused(error);
  (*counts)->SetProgress(5000, 777);

  KeyedTableOptions uo;
  uo.schema = s;
  uo.key_type = KeyType::kBytes;
  uo.key_size = 16;
  uo.key_name = "user";
  auto users = KeyedTableWriter::Create(ns, "users", 1, uo);
  if (!users.ok()) return fail(users.status());
  if ((*users)->Upsert("alice", FixtureValue(s, 1, 0.5, "Alice"), 1) != WriteResult::kOk)
    return Refused(error);
  if ((*users)->Upsert("bob", FixtureValue(s, 2, 1.5, "Bob"), 2) != WriteResult::kOk)
    return Refused(error);

  WindowedTableOptions wo;
  wo.schema = s;
  wo.key_name = "auction";
  wo.window_size_ns = 10;
  auto win = WindowedTableWriter::Create(ns, "win", 1, wo);
  if (!win.ok()) return fail(win.status());
  for (std::int64_t i = 0; i < 3; ++i)
    if ((*win)->Upsert(std::uint64_t{7}, 10 * i, FixtureValue(s, i + 1, 0, "w"),
                       static_cast<std::uint64_t>(i)) != WriteResult::kOk)
      return Refused(error);

  TopKOptions to;
  to.schema = s;
  to.k = 3;
  to.order_field = "count";
  auto top = TopKWriter::Create(ns, "top", 1, to);
  if (!top.ok()) return fail(top.status());
  for (std::uint64_t key = 1; key <= 5; ++key)
    if ((*top)->Offer(key, FixtureValue(s, static_cast<std::int64_t>(10 * key), 0, "t"), key) !=
        WriteResult::kOk)
      return Refused(error);
  (*top)->Publish();

  ResultListOptions lo;
  lo.schema = s;
  lo.capacity = 16;
  auto rows = ResultListWriter::Create(ns, "rows", 1, lo);
  if (!rows.ok()) return fail(rows.status());
  for (std::int64_t i = 0; i < 5; ++i)
    if ((*rows)->Append(FixtureValue(s, i, static_cast<double>(i) / 2, "row " + std::to_string(i)),
                        static_cast<std::uint64_t>(100 + i)) != WriteResult::kOk)
      return Refused(error);
  return true;
}

inline bool AddSecondVersion(Namespace& ns, std::string* error) {
  const Schema s = FixtureSchema();
  KeyedTableOptions ko;
  ko.schema = s;
  ko.key_name = "id";
  auto counts = KeyedTableWriter::Create(ns, "counts", 2, ko);
  if (!counts.ok()) {
    *error = counts.status().message();
    return false;
  }
  for (std::uint64_t id = 0; id < 100; ++id)
    if ((*counts)->Upsert(id, FixtureValue(s, static_cast<std::int64_t>(3 * id + 1), 0, "v2"),
                          2000 + id) != WriteResult::kOk)
      return Refused(error);
  return true;
}

}  // namespace kappa::serving::testing
