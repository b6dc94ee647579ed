// Args: a small command-line parser for the kappa tool.
//
// Accepts "--flag value", "--flag=value", switches (flags without a value), positional
// arguments, and "--" to end the flags. Errors are thrown as UsageError; only the tool's main()
// catches it (exceptions stay at the edge of the program).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kappa::tools {

// Bad command-line input: main() prints "kappa: <what>" and exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A well-formed command that failed while running: main() prints "kappa: <what>" and exits
// with status 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The value of `result`, or a CommandError carrying its status message (which names the file,
// namespace or view). For the Result of every module (memlog, serving and the rest share it).
template <class T>
T ValueOrThrow(base::Result<T> result) {
  if (!result.ok()) throw CommandError(result.status().message());
  return std::move(result).value();
}

class Args {
 public:
  // Parses `argv`, the words after `command` (for example "log create"). `value_flags` take a
  // value, `switches` do not; both are spelled with their dashes ("--count"). "--help" or "-h"
  // before "--" sets help() and skips every other check.
  // A value flag listed with "..." after its name ("--conf...") may be given any number of times
  // (GetAll has every value, Get the last).
  // Throws UsageError on an unknown flag, a missing value or another flag given twice.
  static Args Parse(std::string_view command, std::span<char* const> argv,
                    std::span<const std::string_view> value_flags,
                    std::span<const std::string_view> switches = {});

  bool help() const { return help_; }
  const std::string& command() const { return command_; }

  bool Has(std::string_view flag) const;
  std::optional<std::string> Get(std::string_view flag) const;
  // Every value of a repeatable flag, in the order given.
  std::vector<std::string> GetAll(std::string_view flag) const;
  std::string GetString(std::string_view flag, std::string_view fallback) const;
  // The flag's value, which must be one of `choices`.
  std::string GetChoice(std::string_view flag, std::string_view fallback,
                        std::initializer_list<std::string_view> choices) const;
  // A decimal whole number in [min, max].
  std::uint64_t GetUint(std::string_view flag, std::uint64_t fallback, std::uint64_t min = 0,
                        std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const;
  // A byte count with an optional K, M or G suffix (powers of 1024), at most `max`.
  std::uint64_t GetSize(std::string_view flag, std::uint64_t fallback,
                        std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const;

  // A duration: a whole number with a unit, ms, s, m, h or d ("250ms", "10s", "7d"), or 0.
  std::chrono::milliseconds GetDuration(std::string_view flag,
                                        std::chrono::milliseconds fallback) const;

  // Requires exactly one positional argument per entry of `names` (used in the error message).
  void ExpectPositionals(std::initializer_list<std::string_view> names) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  // A UsageError for this command: "<command>: <what> (see 'kappa <command> --help')".
  UsageError Error(std::string_view what) const;

 private:
  std::string command_;
  bool help_ = false;
  std::map<std::string, std::string, std::less<>> values_;  // flag (with dashes) -> value
  std::vector<std::string> positionals_;
  std::map<std::string, std::vector<std::string>, std::less<>> repeated_;
};

// Strict parsers: nullopt unless all of `text` is valid.
// A decimal whole number that fits in 64 bits.
std::optional<std::uint64_t> ParseUint(std::string_view text);
// A whole number with an optional K, M or G suffix (either case; powers of 1024).
std::optional<std::uint64_t> ParseSize(std::string_view text);

}  // namespace kappa::tools
