// A bid's url: a function of its channel.
//
// The nexmark project's later generators give each bid a url with its channel: a hot channel's
// is one base url drawn once, "channel-K"'s is a base url drawn once for K followed by
// "&channel_id=" and Math.abs(Integer.reverse(K)) (the channel id Q21 extracts), and both are
// cached, so that within a run a bid's url depends on its channel alone. Their base urls are
// "https://www.nexmark.com/" and three strings of 3 or 4 characters (lower-case letters and '_',
// one in 13 an '_') separated by '/', then "/item.htm?query=1" (the three directories Q22
// splits). The draws come from an unseeded java.util.Random, so no two runs agree; kappa draws
// each channel's base url from a java.util.Random seeded by the channel (a hot channel's index
// 0 to 3 in Google, Facebook, Baidu, Apple; 4 + K for channel-K; for any other channel, its
// bytes' hash), the same in every run. Bids do not store their url: it would nearly triple a
// bid's 48 bytes for a value the channel already fixes.
//
// Thread safety: any thread.
#pragma once

#include <string>
#include <string_view>

namespace kappa::nexmark {

// The url of a bid on `channel` (its bytes up to the first NUL): a view of a table kept for the
// process (a hot channel, channel-0 to channel-9999) or of *scratch (any other channel).
std::string_view UrlOf(std::string_view channel, std::string* scratch);

}  // namespace kappa::nexmark
