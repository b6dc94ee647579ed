#include "tools/cli/args.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "tools/cli/text.h"

namespace kappa::tools {

namespace {

bool Contains(std::span<const std::string_view> list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

}  // namespace

std::optional<std::uint64_t> ParseUint(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<std::uint64_t> ParseSize(std::string_view text) {
  unsigned shift = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
  }
  if (shift != 0) text.remove_suffix(1);
  const std::optional<std::uint64_t> value = ParseUint(text);
  if (!value || *value > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return *value << shift;
}

Args Args::Parse(std::string_view command, std::span<char* const> argv,
                 std::span<const std::string_view> value_flags,
                 std::span<const std::string_view> switches) {
  Args args;
  args.command_ = std::string(command);
  for (const char* word : argv) {
    const std::string_view w(word);
    if (w == "--") break;
    if (w == "--help" || w == "-h") {
      args.help_ = true;
      return args;
    }
  }
  bool flags_ended = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view word(argv[i]);
    if (flags_ended || word.size() < 2 || word[0] != '-') {  // "-" alone is an argument
      args.positionals_.emplace_back(word);
      continue;
    }
    if (word == "--") {
      flags_ended = true;
      continue;
    }
    std::string_view name = word;
    std::optional<std::string_view> inline_value;
    if (const std::size_t eq = word.find('=');
        word.starts_with("--") && eq != std::string_view::npos) {
      name = word.substr(0, eq);
      inline_value = word.substr(eq + 1);
    }
    std::string value;
    const bool repeats = Contains(value_flags, std::string(name) + "...");
    if (repeats || Contains(value_flags, name)) {
      if (inline_value) {
        value = std::string(*inline_value);
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        throw args.Error("flag " + std::string(name) + " needs a value");
      }
    } else if (Contains(switches, name)) {
      if (inline_value) throw args.Error("flag " + std::string(name) + " takes no value");
    } else {
      throw args.Error("unknown flag " + Quote(name));
    }
    if (repeats) {
      args.repeated_[std::string(name)].push_back(value);
      args.values_[std::string(name)] = std::move(value);
      continue;
    }
    if (!args.values_.emplace(std::string(name), std::move(value)).second)
      throw args.Error("flag " + std::string(name) + " given more than once");
  }
  return args;
}

bool Args::Has(std::string_view flag) const { return values_.find(flag) != values_.end(); }

std::vector<std::string> Args::GetAll(std::string_view flag) const {
  const auto it = repeated_.find(flag);
  if (it == repeated_.end()) return {};
  return it->second;
}

std::optional<std::string> Args::Get(std::string_view flag) const {
  const auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::GetString(std::string_view flag, std::string_view fallback) const {
  return Get(flag).value_or(std::string(fallback));
}

std::string Args::GetChoice(std::string_view flag, std::string_view fallback,
                            std::initializer_list<std::string_view> choices) const {
  std::string value = GetString(flag, fallback);
  if (Contains(choices, value)) return value;
  std::string allowed;
  for (const std::string_view c : choices) {
    if (!allowed.empty()) allowed += c == *(choices.end() - 1) ? " or " : ", ";
    allowed += c;
  }
  throw Error(std::string(flag) + " must be " + allowed + ", not " + Quote(value));
}

std::uint64_t Args::GetUint(std::string_view flag, std::uint64_t fallback, std::uint64_t min,
                            std::uint64_t max) const {
  const std::optional<std::string> text = Get(flag);
  if (!text) return fallback;
  const std::optional<std::uint64_t> value = ParseUint(*text);
  if (!value) throw Error(std::string(flag) + ": " + Quote(*text) + " is not a whole number");
  if (*value < min || *value > max)
    throw Error(std::string(flag) + " must be between " + std::to_string(min) + " and " +
                std::to_string(max) + ", not " + *text);
  return *value;
}

std::uint64_t Args::GetSize(std::string_view flag, std::uint64_t fallback,
                            std::uint64_t max) const {
  const std::optional<std::string> text = Get(flag);
  if (!text) return fallback;
  const std::optional<std::uint64_t> value = ParseSize(*text);
  if (!value)
    throw Error(std::string(flag) + ": " + Quote(*text) +
                " is not a size (a whole number with an optional K, M or G suffix)");
  if (*value > max)
    throw Error(std::string(flag) + " must be at most " + std::to_string(max) + ", not " + *text);
  return *value;
}

std::chrono::milliseconds Args::GetDuration(std::string_view flag,
                                            std::chrono::milliseconds fallback) const {
  const std::optional<std::string> text = Get(flag);
  if (!text) return fallback;
  const std::string_view t = *text;
  std::size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
  const std::string_view unit = t.substr(digits);
  std::uint64_t value = 0;
  const bool number = digits > 0 && digits <= 12 &&
                      std::from_chars(t.data(), t.data() + digits, value).ec == std::errc();
  std::uint64_t per = 0;
  if (unit == "ms") per = 1;
  if (unit == "s") per = 1000;
  if (unit == "m") per = 60'000;
  if (unit == "h") per = 3'600'000;
  if (unit == "d") per = 86'400'000;
  if (unit.empty() && value == 0) per = 1;
  if (!number || per == 0)
    throw Error(std::string(flag) + ": " + Quote(*text) +
                " is not a duration (a whole number with a unit: ms, s, m, h or d, or 0)");
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * per));
}

void Args::ExpectPositionals(std::initializer_list<std::string_view> names) const {
  if (positionals_.size() < names.size())
    throw Error("missing " + std::string(*(names.begin() + positionals_.size())) + " argument");
  if (positionals_.size() > names.size())
    throw Error("unexpected argument " + Quote(positionals_[names.size()]));
}

UsageError Args::Error(std::string_view what) const {
  return UsageError(command_ + ": " + std::string(what) + " (see 'kappa " + command_ + " --help')");
}

}  // namespace kappa::tools
