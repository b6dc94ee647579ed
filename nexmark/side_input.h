// Q13's bounded side input: a table of (key, value) rows that bids meet on auction % 10,000.
//
// The nexmark project's is the CSV file its SideInputGenerator writes (`--num 10000`): the rows
// "i,i" for i from 0 to 9,999, so every bid meets one row. One's own file has a row per line,
// `key,value`: the key a signed 64-bit integer, the value the rest of the line, or one quoted
// CSV field ("a, ""quoted"" value"), of at most kMaxSideValueBytes bytes; blank lines are
// skipped and a line's trailing '\r' dropped. Keys may repeat: a bid meets every row with its
// key, in file order, as the SQL's join does.
//
// Thread safety: a SideInput is immutable once made; any thread may read it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "serving/status.h"

namespace kappa::nexmark {

inline constexpr std::size_t kMaxSideValueBytes = 32;

struct SideInput {
  using Value = std::array<char, kMaxSideValueBytes>;         // NUL-padded
  std::unordered_map<std::int64_t, std::vector<Value>> rows;  // key -> values, in file order
  std::size_t row_count = 0;

  // The values with `key` (none: an empty span).
  const std::vector<Value>* Find(std::int64_t key) const {
    const auto it = rows.find(key);
    return it == rows.end() ? nullptr : &it->second;
  }
};

// The nexmark project's side input: 10,000 rows "i,i".
SideInput ReferenceSideInput();

// The rows of CSV text `text` (`name` names it in errors: "FILE, line N: ..."). Error: a line
// that is not `key,value` as above.
serving::Result<SideInput> ParseSideInput(std::string_view text, const std::string& name);

// The rows of CSV file `path`. Error: it cannot be read, or a line as ParseSideInput says.
serving::Result<SideInput> LoadSideInput(const std::string& path);

}  // namespace kappa::nexmark
