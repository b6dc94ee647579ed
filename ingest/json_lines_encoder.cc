#include "ingest/json_lines_encoder.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <optional>

namespace kappa::ingest {
namespace {

namespace od = simdjson::ondemand;
using serving::FieldType;

static_assert(JsonLinesEncoder::kPadding >= simdjson::SIMDJSON_PADDING);

const char* JsonTypeText(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

// A number's text as the line has it, for a message.
std::string Token(od::value& value) {
  std::string_view token = value.raw_json_token();
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r'))
    token.remove_suffix(1);
  return std::string(token.substr(0, 40));
}

// The key's text when it holds no escape (the bytes up to its closing quote), or nullopt.
std::optional<std::string_view> PlainKey(const od::raw_json_string& key) {
  const char* const begin = key.raw();
  for (const char* p = begin;; ++p) {
    if (*p == '"') return std::string_view(begin, static_cast<std::size_t>(p - begin));
    if (*p == '\\') return std::nullopt;
  }
}

// Decodes base64 (RFC 4648, padded) or hex into *out; false if `text` is neither.
bool DecodeBase64(std::string_view text, std::string* out) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  if (text.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    std::uint32_t v = 0;
    for (int k = 0; k < 4 - pad; ++k) {
      const int d = digit(text[i + k]);
      if (d < 0) return false;
      v |= static_cast<std::uint32_t>(d) << (18 - 6 * k);
    }
    if (pad == 2 && text[i + 2] != '=') return false;
    out->push_back(static_cast<char>(v >> 16));
    if (pad < 2) out->push_back(static_cast<char>(v >> 8));
    if (pad < 1) out->push_back(static_cast<char>(v));
  }
  return true;
}

bool DecodeHex(std::string_view text, std::string* out) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  if (text.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = digit(text[i]);
    const int low = digit(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

}  // namespace

// A field's name and the quote that closes it, as 8-byte words to compare with a key's raw
// bytes in a few loads (names are at most 31 bytes; the line's padding makes the loads past a
// short key safe).
struct JsonLinesEncoder::KeyPattern {
  explicit KeyPattern(const std::string& name) {
    const std::string quoted = name + '"';
    words = static_cast<int>((quoted.size() + 7) / 8);
    char bytes[32] = {};
    std::memcpy(bytes, quoted.data(), quoted.size());
    std::memcpy(word, bytes, sizeof word);
    const std::size_t tail = quoted.size() - 8 * (words - 1);  // bytes in the last word
    last_mask = tail == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * tail)) - 1;
  }
  bool Matches(const char* raw) const {
    for (int w = 0; w < words; ++w) {
      std::uint64_t v;
      std::memcpy(&v, raw + 8 * w, sizeof v);
      if (w == words - 1) v &= last_mask;
      if (v != word[w]) return false;
    }
    return true;
  }

  std::uint64_t word[4];
  std::uint64_t last_mask;
  int words;
};

// simdjson's On-Demand parser, which reads only what is asked of it: the fields' values are
// parsed and checked, the members no field names are skipped by their structure. (It runs the
// kernel the build's baseline CPU has; for lines of a few hundred bytes that is faster than the
// DOM parser with the best kernel, which builds a tape of every value first.)
struct JsonLinesEncoder::Parser {
  od::parser parser;
};

JsonLinesEncoder::JsonLinesEncoder(const engine::CatalogEntry& entry)
    : builder_(entry), parser_(std::make_unique<Parser>()) {
  static_assert(serving::kMaxFieldName < 32, "a name and its quote in four words");
  if (!entry.tail.empty()) {
    tail_base64_ = entry.tail + "_base64";
    tail_hex_ = entry.tail + "_hex";
  }
  const std::size_t names = builder_.field_count() + (entry.tail.empty() ? 0 : 1);
  for (std::size_t i = 0; i < names; ++i) keys_.emplace_back(builder_.Name(i));
}

JsonLinesEncoder::~JsonLinesEncoder() = default;

bool JsonLinesEncoder::Encode(std::string_view line, std::string* out, std::string* error) {
  const std::size_t fields = builder_.field_count();
  const bool has_tail = !builder_.entry().tail.empty();
  bool begun = false;
  auto fail = [&] {
    if (begun) builder_.Cancel();
    return false;
  };
  auto syntax = [&](simdjson::error_code code) {
    *error = std::string("not JSON: ") + simdjson::error_message(code);
    return fail();
  };
  od::document doc;
  if (auto e = parser_->parser.iterate(line.data(), line.size(), line.size() + kPadding).get(doc))
    return syntax(e);
  od::json_type root_type;
  if (auto e = doc.type().get(root_type)) return syntax(e);
  if (root_type != od::json_type::object) {
    *error = std::string("not a JSON object but ") + JsonTypeText(root_type);
    return false;
  }
  od::object object;
  if (auto e = doc.get_object().get(object)) return syntax(e);
  builder_.Begin(out);
  begun = true;
  std::size_t expected = 0;  // members usually come in the schema's order
  for (auto member : object) {
    if (auto e = member.error()) return syntax(e);
    od::field& field = member.value_unsafe();
    // Field names are [A-Za-z0-9_]: a key equal to one byte for byte is that field; a key with
    // escapes is compared once unescaped.
    int index = -1;
    const od::raw_json_string key = field.key();
    if (expected < keys_.size() && keys_[expected].Matches(key.raw())) {
      index = static_cast<int>(expected);
    } else {
      std::optional<std::string_view> name = PlainKey(key);
      if (!name) {
        std::string_view unescaped;
        if (auto e = field.unescaped_key().get(unescaped)) return syntax(e);
        name = unescaped;
      }
      index = builder_.Find(*name);
      if (index == static_cast<int>(fields) && !has_tail) index = -1;
      if (index < 0 && has_tail && (*name == tail_base64_ || *name == tail_hex_)) {
        // The tail's bytes in base64 or hex, as `kappa log dump --format jsonl` writes bytes
        // that are not UTF-8 text.
        const bool hex = *name == tail_hex_;
        od::value& value = field.value();
        std::string_view text;
        if (value.get_string().get(text)) {
          *error = "'" + std::string(*name) + "' holds a string";
          return fail();
        }
        if (!(hex ? DecodeHex(text, &tail_bytes_) : DecodeBase64(text, &tail_bytes_))) {
          *error = "'" + std::string(*name) + "' is not " + (hex ? "hex" : "base64");
          return fail();
        }
        if (!builder_.SetTail(tail_bytes_, error)) return fail();
        continue;
      }
    }
    if (index < 0) continue;  // a member that names no field: the parser skips its value
    const auto i = static_cast<std::size_t>(index);
    expected = i + 1;
    od::value& value = field.value();
    od::json_type type;
    if (auto e = value.type().get(type)) return syntax(e);
    auto mismatch = [&](const std::string& shown) {
      *error = "field '" + builder_.Name(i) + "' holds " + builder_.Expected(i) + ", not " + shown;
      return fail();
    };
    bool ok = true;
    if (i == fields) {  // the tail
      std::string_view text;
      if (type != od::json_type::string) return mismatch(JsonTypeText(type));
      if (auto e = value.get_string().get(text)) return syntax(e);
      ok = builder_.SetTail(text, error);
    } else {
      switch (builder_.entry().schema.field(i).type) {
        case FieldType::kI64: {
          std::int64_t v;
          if (type != od::json_type::number) return mismatch(JsonTypeText(type));
          if (value.get_int64().get(v)) return mismatch(Token(value));
          ok = builder_.SetI64(i, v, error);
          break;
        }
        case FieldType::kU64: {
          std::uint64_t v;
          if (type != od::json_type::number) return mismatch(JsonTypeText(type));
          if (value.get_uint64().get(v)) return mismatch(Token(value));
          ok = builder_.SetU64(i, v, error);
          break;
        }
        case FieldType::kF64: {
          double v = std::nan("");
          if (type == od::json_type::null) {
            bool is_null = false;
            if (auto e = value.is_null().get(is_null)) return syntax(e);
          } else if (type != od::json_type::number) {
            return mismatch(JsonTypeText(type));
          } else if (value.get_double().get(v)) {
            return mismatch(Token(value));
          }
          ok = builder_.SetF64(i, v, error);
          break;
        }
        case FieldType::kString: {
          std::string_view text;
          if (type != od::json_type::string) return mismatch(JsonTypeText(type));
          if (auto e = value.get_string().get(text)) return syntax(e);
          ok = builder_.SetString(i, text, error);
          break;
        }
      }
    }
    if (!ok) return fail();
  }
  // One object per line: nothing may follow it.
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS)
    return syntax(simdjson::TRAILING_CONTENT);
  return builder_.Finish(error);
}

}  // namespace kappa::ingest
