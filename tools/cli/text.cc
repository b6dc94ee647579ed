#include "tools/cli/text.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>

namespace kappa::tools {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHexByte(const char* prefix, unsigned char c, std::string* out) {
  out->append(prefix);
  out->push_back(kHexDigits[c >> 4]);
  out->push_back(kHexDigits[c & 0xF]);
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 if it does not start with one.
std::size_t Utf8SequenceLength(const unsigned char* s, std::size_t n) {
  const unsigned char c = s[0];
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return len;
}

// Reads exactly `digits` decimal digits at text[*pos].
bool ReadDigits(std::string_view text, std::size_t* pos, int digits, int* value) {
  if (*pos + static_cast<std::size_t>(digits) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = text[*pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<std::size_t>(digits);
  *value = v;
  return true;
}

bool Consume(std::string_view text, std::size_t* pos, char c) {
  if (*pos < text.size() && text[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

std::optional<std::int64_t> ParseIsoTime(std::string_view text) {
  using std::chrono::days;
  using std::chrono::sys_days;
  std::size_t pos = 0;
  int year, month, day;
  if (!ReadDigits(text, &pos, 4, &year) || !Consume(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Consume(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day))
    return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  std::int64_t fraction_ns = 0;
  if (Consume(text, &pos, 'T') || Consume(text, &pos, 't') || Consume(text, &pos, ' ')) {
    if (!ReadDigits(text, &pos, 2, &hour) || !Consume(text, &pos, ':') ||
        !ReadDigits(text, &pos, 2, &minute))
      return std::nullopt;
    if (Consume(text, &pos, ':')) {
      if (!ReadDigits(text, &pos, 2, &second)) return std::nullopt;
      if (Consume(text, &pos, '.') || Consume(text, &pos, ',')) {
        int digits = 0;
        std::int64_t scale = 100'000'000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          fraction_ns += (text[pos] - '0') * scale;
          scale /= 10;
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int off_h, off_m = 0;
    if (!ReadDigits(text, &pos, 2, &off_h)) return std::nullopt;
    Consume(text, &pos, ':');
    if (pos < text.size() && !ReadDigits(text, &pos, 2, &off_m)) return std::nullopt;
    if (off_h > 23 || off_m > 59) return std::nullopt;
    offset_s = sign * (off_h * 3600 + off_m * 60);
  } else if (!Consume(text, &pos, 'Z')) {
    Consume(text, &pos, 'z');
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t day_count = sys_days{date}.time_since_epoch().count();
  const std::int64_t seconds = day_count * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  // Keep within what int64 nanoseconds can hold (years 1678..2262).
  if (seconds > std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1 ||
      seconds < std::numeric_limits<std::int64_t>::min() / 1'000'000'000 + 1)
    return std::nullopt;
  return seconds * 1'000'000'000 + fraction_ns;
}

}  // namespace

void AppendEscapedText(std::span<const std::byte> bytes, std::string* out) {
  for (const std::byte b : bytes) {
    const auto c = static_cast<unsigned char>(b);
    if (c == '\\') {
      out->append("\\\\");
    } else if (c >= 0x20 && c < 0x7F) {
      out->push_back(static_cast<char>(c));
    } else {
      AppendHexByte("\\x", c, out);
    }
  }
}

void AppendJsonString(std::span<const std::byte> bytes, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  out->push_back('"');
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x80) {  // control characters and DEL
      AppendHexByte("\\u00", c, out);
      ++i;
    } else if (const std::size_t len = Utf8SequenceLength(s + i, n - i); len > 0) {
      out->append(reinterpret_cast<const char*>(s + i), len);
      i += len;
    } else {
      AppendHexByte("\\u00", c, out);
      ++i;
    }
  }
  out->push_back('"');
}

bool IsUtf8(std::span<const std::byte> bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size();) {
    if (s[i] < 0x80) {
      ++i;
    } else if (const std::size_t len = Utf8SequenceLength(s + i, bytes.size() - i); len > 0) {
      i += len;
    } else {
      return false;
    }
  }
  return true;
}

void AppendBase64(std::span<const std::byte> bytes, std::string* out) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (s[i] << 16) | (s[i + 1] << 8) | s[i + 2];
    const char four[4] = {kDigits[v >> 18], kDigits[(v >> 12) & 63], kDigits[(v >> 6) & 63],
                          kDigits[v & 63]};
    out->append(four, 4);
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    const std::uint32_t v = (s[i] << 16) | (left == 2 ? s[i + 1] << 8 : 0);
    out->push_back(kDigits[v >> 18]);
    out->push_back(kDigits[(v >> 12) & 63]);
    out->push_back(left == 2 ? kDigits[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

void AppendHex(std::span<const std::byte> bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (const std::byte b : bytes) {
    out->push_back(kDigits[std::to_integer<unsigned>(b) >> 4]);
    out->push_back(kDigits[std::to_integer<unsigned>(b) & 15]);
  }
}

void AppendJsonString(std::string_view text, std::string* out) {
  AppendJsonString(std::as_bytes(std::span<const char>(text.data(), text.size())), out);
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  AppendEscapedText(std::as_bytes(std::span<const char>(text.data(), text.size())), &out);
  out.push_back('\'');
  return out;
}

std::string FormatUtcTime(std::int64_t unix_ns) {
  using std::chrono::days;
  using std::chrono::sys_days;
  std::int64_t secs = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  std::int64_t day_count = secs / 86400;
  std::int64_t second_of_day = secs % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --day_count;
  }
  const std::chrono::year_month_day date{sys_days{days{day_count}}};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(second_of_day / 3600),
                static_cast<int>(second_of_day / 60 % 60), static_cast<int>(second_of_day % 60),
                static_cast<int>(nanos));
  return buf;
}

std::optional<std::int64_t> ParseTime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool all_digits = true;
  for (const char c : text) all_digits = all_digits && c >= '0' && c <= '9';
  if (!all_digits) return ParseIsoTime(text);
  std::int64_t value = 0;
  for (const char c : text) {
    if (value > (std::numeric_limits<std::int64_t>::max() - (c - '0')) / 10) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string FormatBytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  std::uint64_t whole = bytes;
  while (unit < 4 && whole >= 1024) {
    whole /= 1024;
    ++unit;
  }
  char buf[48];
  const std::uint64_t scale = std::uint64_t{1} << (10 * unit);
  if (unit == 0 || bytes % scale == 0) {
    std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(bytes / scale),
                  kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s",
                  static_cast<double>(bytes) / static_cast<double>(scale), kUnits[unit]);
  }
  return buf;
}

std::string FormatDuration(std::int64_t ns) {
  if (ns < 0) {
    // Negate in unsigned arithmetic: INT64_MIN has no positive counterpart.
    const std::uint64_t magnitude = 0 - static_cast<std::uint64_t>(ns);
    return "-" + FormatDuration(static_cast<std::int64_t>(
                     std::min<std::uint64_t>(magnitude, std::numeric_limits<std::int64_t>::max())));
  }
  struct Unit {
    const char* name;
    double ns;
  };
  static constexpr Unit kUnits[] = {{"us", 1e3},   {"ms", 1e6},   {"s", 1e9},
                                    {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
  if (ns < 1000) return std::to_string(ns) + " ns";
  const auto value = static_cast<double>(ns);
  std::size_t unit = 0;
  while (unit + 1 < std::size(kUnits) && value >= kUnits[unit + 1].ns) ++unit;
  // 999.7 us would print as "1e+03 us": say "1 ms" instead.
  if (unit + 1 < std::size(kUnits) && value / kUnits[unit].ns >= 999.5) ++unit;
  const double scaled = value / kUnits[unit].ns;
  char buf[48];
  std::snprintf(buf, sizeof buf, scaled < 1000 ? "%.3g %s" : "%.0f %s", scaled, kUnits[unit].name);
  return buf;
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, value);
  std::string text(buf, r.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void AppendJsonDouble(double value, std::string* out) {
  out->append(std::isfinite(value) ? FormatDouble(value) : std::string("null"));
}

}  // namespace kappa::tools
