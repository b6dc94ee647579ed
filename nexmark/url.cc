#include "nexmark/url.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "nexmark/java_random.h"
#include "operators/hash.h"

namespace kappa::nexmark {
namespace {

constexpr std::string_view kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};
constexpr int kChannels = 10000;

// nexmark's nextString(random, 5, '_'): 3 or 4 characters, one in 13 the special one.
void AppendString(JavaRandom& r, std::string* out) {
  constexpr int kMinLength = 3, kMaxLength = 5;
  for (int n = kMinLength + r.NextInt(kMaxLength - kMinLength); n > 0; --n)
    out->push_back(r.NextInt(13) == 0 ? '_' : static_cast<char>('a' + r.NextInt(26)));
}

std::string BaseUrl(std::int64_t seed) {
  JavaRandom r(seed);
  std::string url = "https://www.nexmark.com/";
  for (int i = 0; i < 3; ++i) {
    AppendString(r, &url);
    url.push_back('/');
  }
  url += "item.htm?query=1";
  return url;
}

// K of "channel-K" with K in [0, 10000), written without leading zeros.
std::optional<int> ChannelNumber(std::string_view channel) {
  constexpr std::string_view kPrefix = "channel-";
  if (!channel.starts_with(kPrefix)) return std::nullopt;
  const std::string_view digits = channel.substr(kPrefix.size());
  int k = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  if (error != std::errc() || end != digits.data() + digits.size() || k < 0 || k >= kChannels ||
      (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  return k;
}

// Java's Math.abs(Integer.reverse(k)) (whose abs of the smallest int is itself).
std::int32_t ReversedId(std::int32_t k) {
  std::uint32_t v = static_cast<std::uint32_t>(k), r = 0;
  for (int i = 0; i < 32; ++i, v >>= 1) r = (r << 1) | (v & 1);
  const auto reversed = static_cast<std::int32_t>(r);
  return reversed == INT32_MIN ? reversed : (reversed < 0 ? -reversed : reversed);
}

// Every hot channel's url, then channel-0's to channel-9999's.
using KnownUrlTable = std::array<std::string, 4 + kChannels>;
const KnownUrlTable& KnownUrls() {
  static const KnownUrlTable urls = [] {
    KnownUrlTable u;
    for (int i = 0; i < 4; ++i) u[static_cast<std::size_t>(i)] = BaseUrl(i);
    for (int k = 0; k < kChannels; ++k)
      u[static_cast<std::size_t>(4 + k)] =
          BaseUrl(4 + k) + "&channel_id=" + std::to_string(ReversedId(k));
    return u;
  }();
  return urls;
}

}  // namespace

std::string_view UrlOf(std::string_view channel, std::string* scratch) {
  channel = channel.substr(0, std::min(channel.size(), channel.find('\0')));
  for (std::size_t i = 0; i < std::size(kHotChannels); ++i)
    if (channel == kHotChannels[i]) return KnownUrls()[i];
  if (const std::optional<int> k = ChannelNumber(channel))
    return KnownUrls()[static_cast<std::size_t>(4 + *k)];
  *scratch = BaseUrl(static_cast<std::int64_t>(operators::HashValue(channel)));
  return *scratch;
}

}  // namespace kappa::nexmark
