#include "nexmark/side_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace kappa::nexmark {
namespace {

using serving::Status;
using serving::StatusCode;

Status BadLine(const std::string& name, std::size_t line, const std::string& why) {
  return Status::Error(StatusCode::kInvalidArgument,
                       "side input " + name + ", line " + std::to_string(line) + ": " + why);
}

// The value field of a line (after the key's comma): the rest of the line, or one quoted field
// with "" for each quote inside it. False (with `why`) if it is not one field.
bool TakeValue(std::string_view field, std::string* value, std::string* why) {
  if (field.empty() || field.front() != '"') {
    if (field.find('"') != std::string_view::npos) {
      *why = "a quote inside an unquoted value (quote the whole value, and double the quotes)";
      return false;
    }
    value->assign(field);
    return true;
  }
  value->clear();
  for (std::size_t i = 1; i < field.size(); ++i) {
    if (field[i] != '"') {
      value->push_back(field[i]);
    } else if (i + 1 < field.size() && field[i + 1] == '"') {
      value->push_back('"');
      ++i;
    } else if (i + 1 == field.size()) {
      return true;
    } else {
      *why = "text after the value's closing quote";
      return false;
    }
  }
  *why = "the quoted value is not closed on its line";
  return false;
}

}  // namespace

SideInput ReferenceSideInput() {
  SideInput s;
  for (std::int64_t i = 0; i < 10'000; ++i) {
    SideInput::Value v{};
    const auto r = std::to_chars(v.data(), v.data() + v.size(), i);
    (void)r;
    s.rows[i].push_back(v);
  }
  s.row_count = 10'000;
  return s;
}

serving::Result<SideInput> ParseSideInput(std::string_view text, const std::string& name) {
  SideInput s;
  std::size_t number = 0;
  std::string value, why;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t comma = line.find(',');
    if (comma == std::string_view::npos)
      return BadLine(name, number, "no ',' between the key and the value");
    const std::string_view key_text = line.substr(0, comma);
    std::int64_t key = 0;
    const auto [at, ec] = std::from_chars(key_text.data(), key_text.data() + key_text.size(), key);
    if (ec != std::errc() || at != key_text.data() + key_text.size() || key_text.empty())
      return BadLine(name, number,
                     "the key '" + std::string(key_text) + "' is not a 64-bit integer");
    if (!TakeValue(line.substr(comma + 1), &value, &why)) return BadLine(name, number, why);
    if (value.size() > kMaxSideValueBytes)
      return BadLine(name, number,
                     "a value of " + std::to_string(value.size()) + " bytes (at most " +
                         std::to_string(kMaxSideValueBytes) + ")");
    if (value.find('\0') != std::string::npos)
      return BadLine(name, number, "a NUL byte in the value");
    SideInput::Value v{};
    std::memcpy(v.data(), value.data(), value.size());
    s.rows[key].push_back(v);
    ++s.row_count;
  }
  return s;
}

serving::Result<SideInput> LoadSideInput(const std::string& path) {
  auto fail = [&](StatusCode code, const std::string& why) {
    return Status::Error(code, "cannot read side input " + path + ": " + why);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(StatusCode::kIoError, std::strerror(errno));
  std::string text;
  struct stat st {};
  Status status = Status::Ok();
  if (::fstat(fd, &st) != 0) {
    status = fail(StatusCode::kIoError, std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = fail(StatusCode::kInvalidArgument, "not a regular file");
  } else {
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        status = fail(StatusCode::kIoError, std::strerror(errno));
        break;
      }
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return ParseSideInput(text, path);
}

}  // namespace kappa::nexmark
