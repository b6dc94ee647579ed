// JsonLinesEncoder: one JSON object (a line of JSON lines input) into a record of a log's type,
// field by field through a RecordBuilder (simdjson's On-Demand parser).
//
// The object's members name the type's fields: every field must be present once, with a JSON
// integer for i64 and u64 fields, a number for f64 fields (null reads as NaN, which is how
// `kappa log dump --format jsonl` writes NaN and the infinities), and a string for string
// fields; a member named as the type's tail (a string) becomes the tail, or one named as the
// tail with "_base64" or "_hex" appended (bytes that are not UTF-8 text, as `kappa log dump
// --format jsonl` writes them). Members that name no field are skipped by their brackets without
// their values being parsed or checked, so that the lines `kappa log dump --format jsonl` writes
// (with "offset", "type", "timestamp_ns" and "kind") read back as they are, quickly. Nothing may
// follow the object on its line.
//
// Thread safety: none; one encoder per thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/record_catalog.h"
#include "ingest/record_builder.h"

namespace kappa::ingest {

class JsonLinesEncoder {
 public:
  // How many readable bytes (of any value) must follow a line passed to Encode.
  static constexpr std::size_t kPadding = 64;

  // REQUIRES: `entry` outlives the encoder.
  explicit JsonLinesEncoder(const engine::CatalogEntry& entry);
  ~JsonLinesEncoder();
  JsonLinesEncoder(const JsonLinesEncoder&) = delete;
  JsonLinesEncoder& operator=(const JsonLinesEncoder&) = delete;

  // Appends the record that `line` (one JSON object, without its newline) encodes to *out. On
  // failure *out is unchanged and *error says why ("field 'price' holds an integer (i64), not a
  // string"). REQUIRES: kPadding readable bytes follow `line` in memory.
  bool Encode(std::string_view line, std::string* out, std::string* error);

 private:
  struct Parser;
  struct KeyPattern;
  RecordBuilder builder_;
  std::unique_ptr<Parser> parser_;
  std::vector<KeyPattern> keys_;  // per field, then the tail
  std::string tail_base64_;       // the tail's name with "_base64" and "_hex" appended
  std::string tail_hex_;
  std::string tail_bytes_;  // a tail decoded from base64 or hex
};

}  // namespace kappa::ingest
