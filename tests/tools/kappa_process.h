// KappaProcess: runs the built `kappa` binary (KAPPA_BINARY) as a child process for the tests
// of the command-line tool, feeds its standard input and collects what it prints and how it
// exits. Also the small text checks those tests share.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#ifndef KAPPA_BINARY
#error "KAPPA_BINARY must name the kappa executable"
#endif

namespace kappa::tools::testing {

// What a finished `kappa` process left.
struct RunResult {
  int status = -1;  // exit status, or 128 + signal number
  std::string out;
  std::string err;
};

// How to start a `kappa` process. The defaults give it an empty standard input, the test's
// environment and a pipe for standard output.
struct KappaOptions {
  // Written to standard input, which then reaches end of file.
  std::string input;
  // Names of variables removed from the inherited environment ("KAPPA_VIEW_DIR").
  std::vector<std::string> unset_env;
  // "NAME=value" entries set in the environment, after `unset_env` is removed.
  std::vector<std::string> env;
  // Standard output is a pseudo-terminal instead of a pipe, for output drawn only on terminals.
  bool stdout_is_terminal = false;
  // Standard input stays open once `input` is written, until CloseInput().
  bool hold_input_open = false;
};

// A running `kappa` process: standard input from a pipe, standard output to a pipe (or a
// pseudo-terminal), standard error to a pipe. A process not finished when this object goes is
// killed and reaped.
class KappaProcess {
 public:
  // Starts `kappa args...`.
  explicit KappaProcess(const std::vector<std::string>& args, const KappaOptions& options = {})
      : input_(options.input), hold_input_open_(options.hold_input_open) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(KAPPA_BINARY));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int in[2];
    int out[2] = {-1, -1};
    int err[2];
    std::string terminal;
    if (::pipe2(in, O_CLOEXEC) != 0) Die("pipe2");
    if (options.stdout_is_terminal) {
      out[0] = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      if (out[0] < 0 || ::grantpt(out[0]) != 0 || ::unlockpt(out[0]) != 0) Die("posix_openpt");
      terminal = ::ptsname(out[0]);
    } else if (::pipe2(out, O_CLOEXEC) != 0) {
      Die("pipe2");
    }
    if (::pipe2(err, O_CLOEXEC) != 0) Die("pipe2");
    pid_ = ::fork();
    if (pid_ < 0) Die("fork");
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      if (options.stdout_is_terminal) {
        const int tty = ::open(terminal.c_str(), O_RDWR | O_NOCTTY);
        ::dup2(tty, STDOUT_FILENO);
      } else {
        ::dup2(out[1], STDOUT_FILENO);
      }
      ::dup2(err[1], STDERR_FILENO);
      ::signal(SIGPIPE, SIG_DFL);
      for (const std::string& name : options.unset_env) ::unsetenv(name.c_str());
      for (const std::string& e : options.env) ::putenv(const_cast<char*>(e.c_str()));
      ::execv(KAPPA_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    if (out[1] >= 0) ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
    if (input_.empty() && !hold_input_open_) {
      CloseFd(&in_);
    } else {
      ::fcntl(in_, F_SETFL, O_NONBLOCK);
    }
  }

  KappaProcess(const KappaProcess&) = delete;
  KappaProcess& operator=(const KappaProcess&) = delete;

  ~KappaProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Finish();
    }
  }

  void Signal(int signal) { ::kill(pid_, signal); }
  // With KappaOptions::hold_input_open: writes `more` to standard input (all of it, unless
  // the process stops reading), or with `end` then ends the input.
  void WriteInput(std::string_view more, bool end = false) {
    input_.append(more);
    while (in_ >= 0 && written_ < input_.size()) Pump(std::chrono::milliseconds(100));
    if (end) CloseFd(&in_);
  }

  // Feeds the input and collects output until standard output holds `text`; false if the
  // process closed its output or `timeout` passed first.
  bool WaitForOutput(std::string_view text,
                     std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (result_.out.find(text) == std::string::npos) {
      if ((out_ < 0 && err_ < 0) || std::chrono::steady_clock::now() > deadline) return false;
      Pump(std::chrono::milliseconds(100));
    }
    return true;
  }

  // Feeds the input, collects the output until the process exits, and reaps it. A process that
  // runs past `timeout` is killed.
  // REQUIRES: Finish() was not called before.
  RunResult Finish(std::chrono::seconds timeout = std::chrono::seconds(180)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_ >= 0 || err_ >= 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "kappa did not finish within " << timeout.count() << " s";
        ::kill(pid_, SIGKILL);
        break;
      }
      Pump(std::chrono::milliseconds(100));
    }
    CloseFd(&in_);
    CloseFd(&out_);
    CloseFd(&err_);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    result_.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result_;
  }

 private:
  [[noreturn]] static void Die(const char* what) {
    std::perror(what);
    std::abort();
  }
  static void CloseFd(int* fd) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }

  // Writes what standard input takes and reads what is ready on standard output and error,
  // waiting up to `wait` for any of them.
  void Pump(std::chrono::milliseconds wait) {
    pollfd fds[3];
    int* owners[3];
    nfds_t n = 0;
    for (int* fd : {&in_, &out_, &err_}) {
      if (*fd < 0 || (fd == &in_ && written_ == input_.size())) continue;
      fds[n] = pollfd{*fd, static_cast<short>(fd == &in_ ? POLLOUT : POLLIN), 0};
      owners[n++] = fd;
    }
    if (n == 0) return;
    if (::poll(fds, n, static_cast<int>(wait.count())) < 0) return;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (owners[i] == &in_) {
        const ssize_t w = ::write(in_, input_.data() + written_, input_.size() - written_);
        if (w > 0) written_ += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN) || (written_ == input_.size() && !hold_input_open_))
          CloseFd(&in_);
        continue;
      }
      char buf[65536];
      const ssize_t r = ::read(*owners[i], buf, sizeof buf);
      if (r <= 0) {  // end of file; a pseudo-terminal whose other side closed gives EIO
        if (r == 0 || errno != EINTR) CloseFd(owners[i]);
      } else {
        (owners[i] == &out_ ? result_.out : result_.err).append(buf, static_cast<std::size_t>(r));
      }
    }
  }

  std::string input_;
  bool hold_input_open_ = false;
  std::size_t written_ = 0;  // bytes of `input_` written so far
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
  RunResult result_;
};

// `text` split at newlines, without them; a final newline ends the last line.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

inline bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Failures print exactly one line, starting "kappa: ", on standard error. `context`, if not
// empty, names the run in failure messages.
inline void ExpectOneErrorLine(const RunResult& r, std::string_view context = {}) {
  const std::string where = context.empty() ? "" : std::string(context) + ": ";
  EXPECT_TRUE(r.err.starts_with("kappa: ")) << where << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << where << r.err;
  EXPECT_TRUE(r.err.ends_with("\n")) << where << r.err;
}

}  // namespace kappa::tools::testing
