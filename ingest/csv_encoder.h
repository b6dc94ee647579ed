// CsvEncoder: CSV records (RFC 4180) into records of a log's type, field by field through a
// RecordBuilder.
//
// A record is one line ("\n" or "\r\n" ends it), or more when a quoted cell holds line ends.
// Cells are separated by the delimiter; a cell that starts with '"' is quoted: it ends at the
// next lone '"', and "" inside it is one '"'. Cells are taken as they are (no trimming). With a
// header (the default), the first record names the columns: every field of the type must be
// one of them, the tail may be, and columns that name no field are ignored. Without one, the
// columns are the type's fields in order, then the tail (optional) for a type with one.
//
// Thread safety: none; one encoder per thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/record_catalog.h"
#include "ingest/record_builder.h"

namespace kappa::ingest {

class CsvEncoder {
 public:
  struct Options {
    char delimiter = ',';
    bool header = true;  // the first record names the columns
  };

  enum class Outcome {
    kRecord,  // a record was appended
    kHeader,  // the record was the header, now read
    kBad,     // *error says why; nothing was appended
  };

  // REQUIRES: `entry` outlives the encoder; the delimiter is not '"', '\r' or '\n'.
  CsvEncoder(const engine::CatalogEntry& entry, Options options);

  // The length of the first record of `input`, through its line end, and in *lines the line
  // ends it holds; 0 if `input` does not hold a whole record yet. At the end of the input
  // (`at_end`) the rest is the last record, with or without a line end. A quote anywhere opens
  // or closes a quoted section here; a quote inside an unquoted cell is an error of Encode.
  static std::size_t RecordLength(std::string_view input, bool at_end, std::size_t* lines);

  // Encodes `record` (as RecordLength splits it off, with or without its line end) and appends
  // it to *out, or reads it as the header. A bad header is kBad too, and the caller should not
  // go on: no record can be read without it.
  Outcome Encode(std::string_view record, std::string* out, std::string* error);

  // Whether the header has been read (always true without one).
  bool has_columns() const { return has_columns_; }

 private:
  // Splits `record` into cells_: views into it, or into unquoted_ for quoted cells.
  bool SplitCells(std::string_view record, std::string* error);
  bool ReadHeader(std::string* error);

  RecordBuilder builder_;
  Options options_;
  bool has_columns_ = false;
  std::vector<int> column_field_;  // column -> field index (field_count(): the tail), or -1
  std::vector<std::string_view> cells_;
  std::vector<std::string> unquoted_;  // quoted cells unescaped, one string per cell
  std::size_t quoted_cells_ = 0;       // of unquoted_, used by the record split last
  std::vector<std::pair<std::size_t, std::size_t>> quoted_;  // (cell, its index in unquoted_)
};

}  // namespace kappa::ingest
