#include "tools/cli/progress_bar.h"

#include <gtest/gtest.h>

#include <string>

namespace kappa::tools {
namespace {

// What a terminal line shows after `text` is written over `screen` (carriage returns go back to
// column 0; other characters overwrite).
std::string Show(std::string screen, const std::string& text) {
  std::size_t column = 0;
  for (char c : text) {
    if (c == '\r') {
      column = 0;
      continue;
    }
    if (column < screen.size()) {
      screen[column] = c;
    } else {
      screen.push_back(c);
    }
    ++column;
  }
  return screen;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

TEST(ProgressBarTest, ShouldLeaveNothingOfALongerLineWhenRedrawn) {
  std::size_t width = 0;
  std::string screen;
  const std::string longer =
      "run  [##########..........]  51%  512M/1.00G bytes  123M/s  4 s left  and more than 78 "
      "columns";
  const std::string shorter = "run  [####################] 100%  1.00G/1.00G bytes  121M/s";
  screen = Show(screen, ProgressBar::Redraw(longer, &width));
  EXPECT_EQ(Trimmed(screen), longer);
  screen = Show(screen, ProgressBar::Redraw(shorter, &width));
  EXPECT_EQ(Trimmed(screen), shorter);
  screen = Show(screen, ProgressBar::Redraw("", &width));  // Finish
  EXPECT_EQ(Trimmed(screen), "");
  EXPECT_EQ(width, 0u);
}

}  // namespace
}  // namespace kappa::tools
