// Status and Result<T>: what cold paths (create, open, recover, flip, retire, checkpoint)
// return, in every module. memlog and serving each use it without using each other, so a
// status passes from one module to the next with its code and message as they were.
//
//   Result<std::unique_ptr<Log>> log = Log::Open(path);
//   if (!log.ok()) return log.status();     // the same code, the same message
//   (*log)->Info();
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace kappa::base {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kCorrupt,
  kIoError,
  kResourceExhausted,
  kPermissionDenied,
  kBusy,
  kFailedPrecondition,
};

inline const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kAlreadyExists:
      return "already exists";
    case StatusCode::kCorrupt:
      return "corrupt";
    case StatusCode::kIoError:
      return "I/O error";
    case StatusCode::kResourceExhausted:
      return "resource exhausted";
    case StatusCode::kPermissionDenied:
      return "permission denied";
    case StatusCode::kBusy:
      return "busy";
    case StatusCode::kFailedPrecondition:
      return "failed precondition";
  }
  return "unknown";
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return {}; }
  static Status Error(StatusCode code, std::string message) {
    return Status(code, std::move(message));
  }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The same code, the message prefixed ("job q5: " + message): context added on the way up.
  Status WithPrefix(const std::string& prefix) const {
    return ok() ? *this : Status(code_, prefix + message_);
  }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status. value() on an error is a programmer error: it prints the
// status and aborts (it never throws bad_variant_access and loses the message).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    KAPPA_DCHECK(!std::get<1>(v_).ok(), "Result: made of an ok Status, with no value");
  }
  bool ok() const { return v_.index() == 0; }
  T& value() & { return *Checked(); }
  const T& value() const& { return *Checked(); }
  T&& value() && { return std::move(*Checked()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return Checked(); }
  const T* operator->() const { return Checked(); }
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  T* Checked() const {
    if (const T* value = std::get_if<0>(&v_)) [[likely]]
      return const_cast<T*>(value);
    Failed(*std::get_if<1>(&v_));
  }
  [[noreturn, gnu::noinline, gnu::cold]] static void Failed(const Status& s) {
    std::fprintf(stderr, "kappa: Result::value() of an error (%s): %s\n", StatusCodeName(s.code()),
                 s.message().c_str());
    std::abort();
  }
  std::variant<T, Status> v_;
};

}  // namespace kappa::base
