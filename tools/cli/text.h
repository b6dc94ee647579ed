// Text conversions for the kappa command-line tool: escaping payloads for terminals and JSON,
// UTC timestamps, and byte sizes for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kappa::tools {

// Appends `bytes` as one line of text: printable ASCII as is, a backslash as "\\", and every
// other byte as "\xHH".
void AppendEscapedText(std::span<const std::byte> bytes, std::string* out);

// Appends `bytes` as a quoted JSON string. Valid UTF-8 is kept; '"' and '\' are escaped, and
// control characters and bytes that are not valid UTF-8 become "\u00XX".
void AppendJsonString(std::span<const std::byte> bytes, std::string* out);
void AppendJsonString(std::string_view text, std::string* out);

// Whether `bytes` is valid UTF-8 (so that AppendJsonString keeps every byte of it).
bool IsUtf8(std::span<const std::byte> bytes);
// Appends `bytes` in base64 (RFC 4648, with padding) or as lowercase hex digits.
void AppendBase64(std::span<const std::byte> bytes, std::string* out);
void AppendHex(std::span<const std::byte> bytes, std::string* out);

// `text` in single quotes, escaped as by AppendEscapedText: safe to put in a one-line message.
std::string Quote(std::string_view text);

// ISO-8601 UTC with nanoseconds: "2024-05-01T12:34:56.123456789Z".
std::string FormatUtcTime(std::int64_t unix_ns);

// Parses a point in time: a whole number of nanoseconds since the Unix epoch, or ISO-8601
// ("2024-05-01", "2024-05-01T12:34[:56[.123]]" followed by nothing or "Z" for UTC, or by an
// offset "+02:00"). nullopt if `text` is neither.
std::optional<std::int64_t> ParseTime(std::string_view text);

// "512 B", "64 MiB", "1.5 KiB".
std::string FormatBytes(std::uint64_t bytes);

// A duration for people: "750 ns", "12.5 us", "250 ms", "1.5 s", "42 min", "3 h", "2 d" (three
// significant digits), with a '-' before a negative one.
std::string FormatDuration(std::int64_t ns);

// The shortest text that reads back as exactly `value`, always with a '.' or an exponent
// ("3.0", "0.1", "1e+21", "-0.0"), so that it reads back as a floating-point number; "nan",
// "inf" and "-inf" for the values that are not finite.
std::string FormatDouble(double value);

// Appends `value` as a JSON number as FormatDouble writes it, or null if it is not finite
// (JSON has no NaN or infinity).
void AppendJsonDouble(double value, std::string* out);

}  // namespace kappa::tools
