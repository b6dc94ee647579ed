// RecordCatalog: which record types a log carries, by name and schema, so that tools and other
// languages decode its records by field ("kappa log dump --format jsonl") without the C++ types.
//
// A log's catalog is a small text file next to it, "<log path>.types", one line per type:
//
//   # kappa record types
//   1 person id:i64 name:string16 email:string24 date_time:i64
//   3 bid auction:i64 bidder:i64 price:i64 channel:string16 date_time:i64 extra:tail
//
// A last field of type `tail` names the text that may follow the record in a payload (a record
// tail, engine/record.h): such a type's payloads are the schema's size or longer.
//
// A type is registered once: registering it again with the same name and schema is a no-op,
// with another is an error. Writes replace the file atomically (write, fsync, rename), so a
// reader sees the old catalog or the new one. Registration is for set-up (generators, jobs that
// write a log), not hot paths; two processes registering at once may lose one's entry (the last
// rename wins).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/record.h"
#include "serving/schema.h"
#include "serving/status.h"

namespace kappa::engine {

struct CatalogEntry {
  std::uint16_t type = 0;
  std::string name;  // 1 to 31 characters of [A-Za-z0-9_]
  serving::Schema schema;
  std::string tail;  // the name of its tail, or "" if it has none

  // Whether a payload of `size` bytes is a record of this type.
  bool Fits(std::size_t size) const {
    return tail.empty() ? size == schema.value_size() : size >= schema.value_size();
  }
};

class RecordCatalog {
 public:
  // The catalog file of the log at `log_path` (a path, as memlog::Log::ResolvePath gives).
  static std::string PathFor(const std::string& log_path) { return log_path + ".types"; }

  // The catalog of the log at `log_path`: empty if it has none, an error if its file is
  // unreadable or malformed (naming the file and line).
  static serving::Result<RecordCatalog> Load(const std::string& log_path);

  // Adds (type, name, schema, tail) to the log's catalog on disk. Ok if it is there already.
  static serving::Status Register(const std::string& log_path, std::uint16_t type,
                                  const std::string& name, const serving::Schema& schema,
                                  const std::string& tail = "");
  template <Record T>
  static serving::Status Register(const std::string& log_path, const std::string& name) {
    auto schema = RecordSchema<T>();
    if (!schema.ok()) return schema.status();
    const char* tail = RecordTail<T>::kName;
    return Register(log_path, RecordType<T>::kLogType, name, *schema, tail ? tail : "");
  }

  // The entry for `type`, or nullptr.
  const CatalogEntry* Find(std::uint16_t type) const;
  const std::vector<CatalogEntry>& entries() const { return entries_; }

  // The file's text: the header line, then the entries in type order.
  std::string Text() const;
  // Parses Text()'s format; `source` names it in errors.
  static serving::Result<RecordCatalog> Parse(const std::string& text, const std::string& source);

 private:
  std::vector<CatalogEntry> entries_;  // in type order
};

}  // namespace kappa::engine
