// Fuzzes typed ingest (kappa::ingest) with what `kappa log append --format jsonl|csv` reads from
// anyone: arbitrary lines into a record type with numbers, a string and a tail. Nothing may
// crash or read past the padding the encoders are promised, a line that fails leaves nothing
// behind, and a record that encodes has the type's size plus its tail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "engine/record_catalog.h"
#include "ingest/csv_encoder.h"
#include "ingest/json_lines_encoder.h"

namespace {

const kappa::engine::CatalogEntry& ClickType() {
  static const kappa::engine::CatalogEntry entry =
      kappa::engine::RecordCatalog::Parse(
          "7 click user:i64 page:string16 ms:f64 n:u64 note:tail\n", "fuzz")
          .value()
          .entries()
          .at(0);
  return entry;
}

void Check(bool ok, std::size_t before, const std::string& out) {
  if (!ok && out.size() != before) std::abort();                  // a failure leaves nothing
  if (ok && out.size() < before + ClickType().schema.value_size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 3;
  // The input, then exactly the padding the encoders may read (ASan sees any byte past it).
  const std::size_t length = size - 1;
  const auto buffer = std::make_unique<char[]>(length + kappa::ingest::JsonLinesEncoder::kPadding);
  std::memcpy(buffer.get(), data + 1, length);
  std::memset(buffer.get() + length, ' ', kappa::ingest::JsonLinesEncoder::kPadding);
  std::string_view input(buffer.get(), length);
  std::string out;
  std::string error;
  if (mode == 0) {
    kappa::ingest::JsonLinesEncoder json(ClickType());
    while (!input.empty()) {
      const std::size_t end = std::min(input.find('\n'), input.size());
      const std::size_t before = out.size();
      Check(json.Encode(input.substr(0, end), &out, &error), before, out);
      input.remove_prefix(std::min(end + 1, input.size()));
    }
    return 0;
  }
  kappa::ingest::CsvEncoder csv(ClickType(), {.delimiter = ',', .header = mode == 1});
  while (!input.empty()) {
    std::size_t lines = 0;
    const std::size_t record = kappa::ingest::CsvEncoder::RecordLength(input, true, &lines);
    if (record == 0 || record > input.size()) std::abort();  // the end takes the rest
    const std::size_t before = out.size();
    const auto outcome = csv.Encode(input.substr(0, record), &out, &error);
    Check(outcome == kappa::ingest::CsvEncoder::Outcome::kRecord, before, out);
    input.remove_prefix(record);
  }
  return 0;
}
