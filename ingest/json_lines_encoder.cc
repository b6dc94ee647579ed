#include "ingest/json_lines_encoder.h"

#include <simdjson.h>

#include <cmath>

namespace kappa::ingest {
namespace {

using serving::FieldType;
using simdjson::dom::element_type;

static_assert(JsonLinesEncoder::kPadding >= simdjson::SIMDJSON_PADDING);

const char* JsonTypeText(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a number with a fraction or an exponent";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

}  // namespace

// simdjson's DOM parser: it validates the whole line and picks the fastest kernels for the CPU
// it runs on (its On-Demand API would be compiled for the build's baseline CPU only).
struct JsonLinesEncoder::Parser {
  simdjson::dom::parser parser;
};

JsonLinesEncoder::JsonLinesEncoder(const engine::CatalogEntry& entry)
    : builder_(entry), parser_(std::make_unique<Parser>()) {}

JsonLinesEncoder::~JsonLinesEncoder() = default;

bool JsonLinesEncoder::Encode(std::string_view line, std::string* out, std::string* error) {
  const std::size_t fields = builder_.field_count();
  const bool has_tail = !builder_.entry().tail.empty();
  simdjson::dom::element doc;
  if (auto e =
          parser_->parser.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc)) {
    *error = std::string("not JSON: ") + simdjson::error_message(e);
    return false;
  }
  simdjson::dom::object object;
  if (doc.get_object().get(object)) {
    *error = std::string("not a JSON object but ") + JsonTypeText(doc.type());
    return false;
  }
  builder_.Begin(out);
  auto fail = [&] {
    builder_.Cancel();
    return false;
  };
  std::size_t expected = 0;  // members usually come in the schema's order
  for (const simdjson::dom::key_value_pair member : object) {
    int index = -1;
    if (expected < fields && member.key == builder_.Name(expected)) {
      index = static_cast<int>(expected);
    } else {
      index = builder_.Find(member.key);
      if (index == static_cast<int>(fields) && !has_tail) index = -1;
    }
    if (index < 0) continue;  // a member that names no field
    const auto i = static_cast<std::size_t>(index);
    expected = i + 1;
    const simdjson::dom::element value = member.value;
    const element_type type = value.type();
    auto mismatch = [&](const std::string& shown) {
      *error = "field '" + builder_.Name(i) + "' holds " + builder_.Expected(i) + ", not " + shown;
      return fail();
    };
    bool ok = true;
    if (i == fields) {  // the tail
      if (type != element_type::STRING) return mismatch(JsonTypeText(type));
      ok = builder_.SetTail(value.get_string().value_unsafe(), error);
    } else {
      switch (builder_.entry().schema.field(i).type) {
        case FieldType::kI64: {
          std::int64_t v;
          if (type == element_type::UINT64)
            return mismatch(simdjson::to_string(value) + " (out of range)");
          if (type != element_type::INT64) return mismatch(JsonTypeText(type));
          ok = value.get_int64().get(v) == simdjson::SUCCESS && builder_.SetI64(i, v, error);
          break;
        }
        case FieldType::kU64: {
          std::uint64_t v;
          if (type != element_type::INT64 && type != element_type::UINT64)
            return mismatch(JsonTypeText(type));
          if (value.get_uint64().get(v)) return mismatch(simdjson::to_string(value));
          ok = builder_.SetU64(i, v, error);
          break;
        }
        case FieldType::kF64: {
          double v = std::nan("");
          if (type == element_type::INT64 || type == element_type::UINT64 ||
              type == element_type::DOUBLE) {
            v = value.get_double().value_unsafe();
          } else if (type != element_type::NULL_VALUE) {
            return mismatch(JsonTypeText(type));
          }
          ok = builder_.SetF64(i, v, error);
          break;
        }
        case FieldType::kString: {
          if (type != element_type::STRING) return mismatch(JsonTypeText(type));
          ok = builder_.SetString(i, value.get_string().value_unsafe(), error);
          break;
        }
      }
    }
    if (!ok) return fail();
  }
  return builder_.Finish(error);
}

}  // namespace kappa::ingest
