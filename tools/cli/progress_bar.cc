#include "tools/cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "tools/cli/clock.h"
#include "tools/cli/text.h"

namespace kappa::tools {
namespace {

constexpr std::int64_t kRedrawNs = 100'000'000;
constexpr int kBarWidth = 20;

}  // namespace

std::string ShortCount(double n) {
  char text[32];
  if (n < 1e3) {
    std::snprintf(text, sizeof text, "%.0f", n);
  } else if (n < 1e6) {
    std::snprintf(text, sizeof text, "%.3gK", n / 1e3);
  } else if (n < 1e9) {
    std::snprintf(text, sizeof text, "%.3gM", n / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.3gG", n / 1e9);
  }
  return text;
}

ProgressBar::ProgressBar(std::string label, std::string unit, std::uint64_t total,
                         bool streams_stdout)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(::isatty(STDERR_FILENO) == 1 && !(streams_stdout && ::isatty(STDOUT_FILENO) == 1)),
      start_ns_(SteadyNs()),
      next_draw_ns_(start_ns_ + kRedrawNs) {}

std::string ProgressBar::Line(std::uint64_t done, std::int64_t elapsed_ns) const {
  std::string line = label_;
  const double rate =
      elapsed_ns > 0 ? static_cast<double>(done) * 1e9 / static_cast<double>(elapsed_ns) : 0.0;
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(fraction * kBarWidth);
    line += "  [" + std::string(static_cast<std::size_t>(filled), '#') +
            std::string(static_cast<std::size_t>(kBarWidth - filled), '.') + "]";
    char percent[8];
    std::snprintf(percent, sizeof percent, "%4d%%", static_cast<int>(fraction * 100));
    line += percent;
    line += "  " + ShortCount(static_cast<double>(done)) + "/" +
            ShortCount(static_cast<double>(total_)) + " " + unit_;
  } else {
    line += "  " + ShortCount(static_cast<double>(done)) + " " + unit_;
  }
  line += "  " + ShortCount(rate) + "/s";
  if (total_ > 0 && rate > 0 && done < total_) {
    const double left_s = static_cast<double>(total_ - done) / rate;
    line += "  " + FormatDuration(static_cast<std::int64_t>(left_s * 1e9)) + " left";
  }
  return line;
}

void ProgressBar::Update(std::uint64_t done) {
  if (!enabled_) return;
  const std::int64_t now = SteadyNs();
  if (now < next_draw_ns_) return;
  next_draw_ns_ = now + kRedrawNs;
  const std::string text = Redraw(Line(done, now - start_ns_), &width_);
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

std::string ProgressBar::Redraw(const std::string& line, std::size_t* width) {
  std::string text = "\r" + line;
  if (line.size() < *width) {
    text.append(*width - line.size(), ' ');
    text += "\r" + line;  // the cursor ends after the line, as if it had been drawn alone
  }
  *width = line.size();
  return text;
}

void ProgressBar::Finish() {
  if (!drawn_) return;
  std::fputs(Redraw("", &width_).c_str(), stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace kappa::tools
