// The record the engine tests use, and pipelines over it.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

#include "engine/pipeline.h"
#include "engine/record.h"
#include "engine/results.h"

namespace kappa::engine::testing {

struct Click {
  std::int64_t user;
  std::int64_t page;
  std::int64_t amount;
  std::int64_t time;
};

}  // namespace kappa::engine::testing

KAPPA_RECORD(kappa::engine::testing::Click, 7, user, page, amount, time);

namespace kappa::engine::testing {

// Clicks per user (a count kept in the view itself).
inline Job ClicksPerUser(const std::string& log) {
  return From<Click>("clicks_per_user", log)
      .KeyBy([](const Click& c) { return c.user; })
      .Aggregate(operators::Count<Click>{})
      .ToView("clicks_per_user", ViewSinkOptions{.key_name = "user", .value_name = "clicks"});
}

// Average amount per page in 2,000-ns tumbling windows, 500 ns of disorder allowed (state kept
// per window, written when a window closes).
inline Job AmountPerPage(const std::string& log) {
  return From<Click>("amount_per_page", log)
      .EventTime([](const Click& c) { return c.time; }, 500)
      .KeyBy([](const Click& c) { return c.page; })
      .Window(operators::TumblingWindows(2000))
      .Aggregate(operators::MakeAvg<Click>([](const Click& c) { return c.amount; }))
      .ToView(
          "amount_per_page",
          ViewSinkOptions{.key_name = "page", .value_name = "avg_amount", .windows_per_key = 64});
}

// The most clicks a page had in each 1,000-ns tumbling window (500 ns of disorder): clicks per
// page and window, then, keyed again by window, their maximum. Two keyed stages in one job.
inline Job BusiestPage(const std::string& log) {
  using PageClicks = WindowResult<std::int64_t, std::int64_t>;
  return From<Click>("busiest_page", log)
      .EventTime([](const Click& c) { return c.time; }, 500)
      .KeyBy([](const Click& c) { return c.page; })
      .Window(operators::TumblingWindows(1000))
      .Aggregate(operators::Count<Click>{})
      .KeyBy([](const PageClicks& r) { return r.start; })
      .Aggregate(operators::MakeMax<PageClicks>([](const PageClicks& r) { return r.value; }))
      .ToView("busiest_page", ViewSinkOptions{.key_name = "window_start", .value_name = "clicks"});
}

}  // namespace kappa::engine::testing
