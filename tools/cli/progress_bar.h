// ProgressBar: one line on standard error, redrawn in place, for long work (generating events,
// replaying a log, dumping it):
//
//   gen   [##########..........]  51%  5.1M/10.0M events  1.23M/s  4s left
//
// With no total the bar is left out. Drawn only when standard error is a terminal (so pipes
// and logs stay clean), and, for a command whose output goes to standard output as it works,
// only when that output is not the same terminal; at most every 100 ms; Finish() erases it.
//
// Thread safety: one thread.
#pragma once

#include <cstdint>
#include <string>

namespace kappa::tools {

class ProgressBar {
 public:
  // `label` starts the line; `unit` names what is counted ("events", "records").
  // `streams_stdout`: the command prints its results as it goes (no bar over them).
  ProgressBar(std::string label, std::string unit, std::uint64_t total = 0,
              bool streams_stdout = false);
  ~ProgressBar() { Finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records progress: `done` units so far (redraws if due).
  void Update(std::uint64_t done);
  // Erases the line (idempotent).
  void Finish();

  // The line Update would draw for `done` after `elapsed_ns`, without the carriage return.
  std::string Line(std::uint64_t done, std::int64_t elapsed_ns) const;
  // What to write to draw `line` over the one drawn before, `*width` columns wide: a carriage
  // return, the line, and blanks over whatever of the old one it does not cover (so nothing of
  // a longer line stays behind). Updates *width. An empty line erases.
  static std::string Redraw(const std::string& line, std::size_t* width);

 private:
  std::string label_;
  std::string unit_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::size_t width_ = 0;  // of the line drawn last
  std::int64_t start_ns_;
  std::int64_t next_draw_ns_;
};

// A count in short form: 950, 12.3K, 4.56M, 1.20G.
std::string ShortCount(double n);

}  // namespace kappa::tools
