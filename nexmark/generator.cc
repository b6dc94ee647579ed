#include "nexmark/generator.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "base/check.h"
#include "engine/record_catalog.h"
#include "nexmark/java_random.h"

namespace kappa::nexmark {
namespace {

constexpr std::int64_t kPersonIdLead = 10;
constexpr std::int64_t kAuctionIdLead = 10;
constexpr std::int64_t kHotSellerRatio = 100;  // hot ids are multiples of 100
constexpr std::int64_t kHotAuctionRatio = 100;
constexpr std::int64_t kHotBidderRatio = 100;
constexpr int kMinStringLength = 3;
constexpr int kHotChannelRatio = 2;  // 1 in N bids on a channel that is not hot
constexpr int kChannels = 10000;
constexpr std::int64_t kChannelSeed = 0x6368616e6e656c;  // "channel"
// The reference's sizes its `extra` padding makes records average, and what it counts as the
// size of each record before the padding.
constexpr int kPersonAverageBytes = 200, kPersonBaseBytes = 8;
constexpr int kAuctionAverageBytes = 500, kAuctionBaseBytes = 48;
constexpr int kBidAverageBytes = 100, kBidBaseBytes = 32;
// The longest padding PutExtra can draw for a record of `size` bytes: wanted - delta + 2 delta - 1.
constexpr int MaxExtra(int size, int average) {
  const int wanted = average - size;
  const int delta = (wanted * 2 + 5) / 10;  // round(0.2 × wanted), half up
  return wanted - delta + (delta == 0 ? 0 : 2 * delta - 1);
}
// The smallest sizes: a person's strings are at least 10 + 5 + 19 + 4 + 2 characters; an
// auction's may trim to nothing.
static_assert(MaxExtra(kPersonBaseBytes + 40, kPersonAverageBytes) <= int{kMaxExtraBytes});
static_assert(MaxExtra(kAuctionBaseBytes, kAuctionAverageBytes) == 541);
static_assert(MaxExtra(kAuctionBaseBytes, kAuctionAverageBytes) <= int{kMaxExtraBytes});
static_assert(MaxExtra(kBidBaseBytes, kBidAverageBytes) <= int{kMaxExtraBytes});
static_assert(MaxExtra(kBidBaseBytes, kBidAverageBytes) == 81);
static_assert(MaxExtra(kBidBaseBytes, kBidAverageBytes) <= int{kMaxBidExtraBytes});

constexpr std::string_view kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                            "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::string_view kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                           "Walton", "Smith",  "Jones",   "Noris"};
constexpr std::string_view kCities[] = {"Phoenix",  "Los Angeles", "San Francisco", "Boise",
                                        "Portland", "Bend",        "Redmond",       "Seattle",
                                        "Kent",     "Cheyenne"};
constexpr std::string_view kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::string_view kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

// The random numbers of one event: splitmix64 over (seed, event number).
class EventRandom {
 public:
  EventRandom(std::uint64_t seed, std::uint64_t n)
      : state_(Mix(seed * 0x9e3779b97f4a7c15ULL + n)) {}
  std::uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix(state_);
  }
  // Uniform in [0, n); n > 0.
  std::int64_t Below(std::int64_t n) {
    return static_cast<std::int64_t>(Next() % static_cast<std::uint64_t>(n));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static std::uint64_t Mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

template <std::size_t N>
void Put(char (&field)[N], std::string_view text) {
  std::memset(field, 0, N);
  std::memcpy(field, text.data(), std::min(text.size(), N - 1));
}

// Without leading and trailing spaces (Java's String.trim, for these strings).
std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Lower-case letters with a space now and then, 3 to max_length - 1 long, trimmed (nexmark's
// nextString). `text` holds at least max_length characters.
template <class Random>
std::string_view RandomString(Random& r, int max_length, char* text) {
  const int length = kMinStringLength + static_cast<int>(r.Below(max_length - kMinStringLength));
  for (int i = 0; i < length; ++i)
    text[i] = r.Below(13) == 0 ? ' ' : static_cast<char>('a' + r.Below(26));
  return Trim(std::string_view(text, static_cast<std::size_t>(length)));
}
template <std::size_t N, class Random>
std::string_view PutRandomString(char (&field)[N], Random& r, int max_length) {
  char text[128];
  const std::string_view s = RandomString(r, max_length, text);
  Put(field, s);
  return s;
}

// 10^(6u) × 100, rounded half up (Java's Math.round).
template <class Random>
std::int64_t NextPrice(Random& r) {
  return static_cast<std::int64_t>(std::floor(std::pow(10.0, r.Unit() * 6.0) * 100.0 + 0.5));
}

// java.util.Random with the names the drawing code shares with EventRandom.
class ReferenceRandom {
 public:
  explicit ReferenceRandom(std::int64_t seed) : r_(seed) {}
  std::int64_t Below(std::int64_t n) { return r_.NextInt(static_cast<std::int32_t>(n)); }
  double Unit() { return r_.NextDouble(); }
  std::int32_t Any() { return r_.NextInt(); }

 private:
  JavaRandom r_;
};

// nexmark's nextExtra: padding that brings a record of `size` bytes to about `average`, written
// at `out`; its length. Letters from one 32-bit draw per six of them ('a' + v % 26, v /= 26,
// truncating: a negative draw gives the characters below 'a').
std::size_t PutExtra(ReferenceRandom& r, int size, int average, char* out) {
  if (size > average) return 0;
  const int wanted = average - size;
  const auto delta = static_cast<int>(std::floor(wanted * 0.2 + 0.5));
  const int length = wanted - delta + (delta == 0 ? 0 : static_cast<int>(r.Below(2 * delta)));
  KAPPA_DCHECK(length <= static_cast<int>(kMaxExtraBytes), "PutExtra: the padding is too long");
  std::int32_t v = 0;
  for (int i = 0; i < length; ++i) {
    if (i % 6 == 0) v = r.Any();
    out[i] = static_cast<char>('a' + v % 26);
    v /= 26;
  }
  return static_cast<std::size_t>(length);
}

// A bid's channel: hot half of the time.
template <std::size_t N, class Random>
void PutChannel(char (&field)[N], Random& r) {
  if (r.Below(kHotChannelRatio) > 0) {
    Put(field, kHotChannels[r.Below(std::size(kHotChannels))]);
  } else {
    // "channel-K" without snprintf, which would cost as much as the rest of the bid.
    static_assert(N >= sizeof("channel-9999"));
    std::memset(field, 0, N);
    std::memcpy(field, "channel-", 8);
    auto k = static_cast<unsigned>(r.Below(kChannels));
    char digits[8];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + k % 10);
      k /= 10;
    } while (k != 0);
    for (int i = 0; i < n; ++i) field[8 + i] = digits[n - 1 - i];
  }
}

template <std::size_t N, class Random>
std::string_view Pick(Random& r, const std::string_view (&choices)[N]) {
  return choices[r.Below(static_cast<std::int64_t>(N))];
}

// The nexmark project's rules for what an event refers to (ids, hot or random) and for a
// person's fields, in its order of draws, over either generator's random numbers.
template <class Random>
class Rules {
 public:
  Rules(Random& r, const GeneratorConfig& config, std::uint64_t n)
      : r_(r),
        config_(config),
        last_person_(Generator::LastBase0PersonId(n)),
        last_auction_(Generator::LastBase0AuctionId(n)) {}

  std::int64_t person_id() const { return last_person_ + Generator::kFirstPersonId; }
  std::int64_t auction_id() const { return last_auction_ + Generator::kFirstAuctionId; }

  // The latest hot seller (three times in four), else a random person.
  std::int64_t Seller() {
    return (r_.Below(config_.hot_seller_ratio) > 0
                ? (last_person_ / kHotSellerRatio) * kHotSellerRatio
                : SomePerson()) +
           Generator::kFirstPersonId;
  }
  std::int64_t Category() { return Generator::kFirstCategoryId + r_.Below(Generator::kCategories); }
  // A bid's auction, bidder and price: the latest hot auction half of the time, else one in
  // flight or a few ahead; a hot bidder three times in four, else a random person.
  void PutBid(Bid& b) {
    if (r_.Below(config_.hot_auction_ratio) > 0) {
      b.auction = (last_auction_ / kHotAuctionRatio) * kHotAuctionRatio;
    } else {
      const std::int64_t first =
          std::max<std::int64_t>(last_auction_ - config_.auctions_in_flight, 0);
      b.auction = first + r_.Below(last_auction_ - first + 1 + kAuctionIdLead);
    }
    b.auction += Generator::kFirstAuctionId;
    b.bidder = (r_.Below(config_.hot_bidder_ratio) > 0
                    ? (last_person_ / kHotBidderRatio) * kHotBidderRatio + 1
                    : SomePerson()) +
               Generator::kFirstPersonId;
    b.price = NextPrice(r_);
  }
  // A person's fields but its time; the total length of its strings (the reference counts them
  // into the record's size).
  std::size_t PutPerson(Person& p) {
    p.id = person_id();
    char text[64];
    const std::string_view first = Pick(r_, kFirstNames);
    const std::string_view last = Pick(r_, kLastNames);
    std::size_t size = Format(p.name, text, "%.*s %.*s", first, last);
    char user[8], domain[8];
    const std::string_view u = RandomString(r_, 7, user);
    const std::string_view d = RandomString(r_, 5, domain);
    size += Format(p.email_address, text, "%.*s@%.*s.com", u, d);
    // Each draw in its own statement: the order of a call's arguments is unspecified, and
    // compilers differ in it.
    int group[4];
    for (int& g : group) g = static_cast<int>(r_.Below(10000));
    std::snprintf(text, sizeof text, "%04d %04d %04d %04d", group[0], group[1], group[2], group[3]);
    Put(p.credit_card, text);
    size += std::strlen(text);
    const std::string_view city = Pick(r_, kCities);
    const std::string_view state = Pick(r_, kStates);
    Put(p.city, city);
    Put(p.state, state);
    return size + city.size() + state.size();
  }

 private:
  // A random person among the active ones, or a few not created yet (base 0).
  std::int64_t SomePerson() {
    const std::int64_t people = last_person_ + 1;
    const std::int64_t active = std::min(people, config_.active_people);
    return people - active + r_.Below(active + kPersonIdLead);
  }
  template <std::size_t N>
  static std::size_t Format(char (&field)[N], char (&text)[64], const char* format,
                            std::string_view a, std::string_view b) {
    std::snprintf(text, sizeof text, format, static_cast<int>(a.size()), a.data(),
                  static_cast<int>(b.size()), b.data());
    Put(field, text);
    return std::strlen(text);
  }

  Random& r_;
  const GeneratorConfig& config_;
  std::int64_t last_person_;
  std::int64_t last_auction_;
};

}  // namespace

std::int64_t Event::date_time() const {
  switch (kind) {
    case EventKind::kPerson:
      return person.date_time;
    case EventKind::kAuction:
      return auction.date_time;
    case EventKind::kBid:
      return bid.date_time;
  }
  return 0;
}

std::uint16_t Event::type() const {
  switch (kind) {
    case EventKind::kPerson:
      return engine::RecordType<Person>::kLogType;
    case EventKind::kAuction:
      return engine::RecordType<Auction>::kLogType;
    case EventKind::kBid:
      return engine::RecordType<Bid>::kLogType;
  }
  return 0;
}

std::size_t Event::record_size() const {
  switch (kind) {
    case EventKind::kPerson:
      return sizeof(Person);
    case EventKind::kAuction:
      return sizeof(Auction);
    case EventKind::kBid:
      return sizeof(Bid);
  }
  return 0;
}

std::span<const std::byte> Event::payload() const {
  return std::span(bytes, record_size() + extra_size);
}

std::string_view Event::extra() const {
  return std::string_view(reinterpret_cast<const char*>(bytes) + record_size(), extra_size);
}

serving::Status RegisterEventTypes(const std::string& log_path) {
  for (serving::Status s :
       {engine::RecordCatalog::Register<Person>(log_path, engine::RecordName<Person>()),
        engine::RecordCatalog::Register<Auction>(log_path, engine::RecordName<Auction>()),
        engine::RecordCatalog::Register<Bid>(log_path, engine::RecordName<Bid>())}) {
    if (!s.ok()) return s;
  }
  return serving::Status::Ok();
}

Generator::Generator(const GeneratorConfig& config)
    : config_(config),
      ns_per_event_(1e9 / std::max(config.events_per_second, 1e-9)),
      us_per_event_(1e6 / std::max(config.events_per_second, 1e-9)) {}

serving::Status Generator::CheckConfig(const GeneratorConfig& config) {
  auto bad = [](const std::string& what) {
    return serving::Status::Error(serving::StatusCode::kInvalidArgument, "generator: " + what);
  };
  if (!(config.events_per_second > 0)) return bad("the event rate must be > 0");
  // The reference draws an auction's length with nextInt (32 bits), as twice the time of
  // auctions_in_flight × 50 / 3 events in ms: that must stay below 2^31.
  if (config.kind == GeneratorKind::kReference &&
      2e3 * static_cast<double>(config.auctions_in_flight) * kTotalProportion / kAuctionProportion /
              config.events_per_second >=
          2147483647.0)
    return bad(
        "the reference generator needs a higher event rate (an auction's length in ms "
        "must fit in 31 bits)");
  if (config.kind == GeneratorKind::kReference && config.base_time_ns % 1'000'000 != 0)
    return bad(
        "the reference generator counts time in milliseconds: its base time must be a "
        "whole number of them");
  return serving::Status::Ok();
}

const char* Generator::kind_name() const {
  return config_.kind == GeneratorKind::kReference ? "reference" : "default";
}

std::int64_t Generator::ReferenceTimeMs(std::uint64_t n) const {
  // The reference's: base + (the integer part of n × the delay in µs) div 1000, in whole ms.
  return config_.base_time_ns / 1'000'000 +
         static_cast<std::int64_t>(static_cast<double>(n) * us_per_event_) / 1000;
}

EventKind Generator::KindOf(std::uint64_t n) {
  const auto rem = static_cast<int>(n % kTotalProportion);
  if (rem < kPersonProportion) return EventKind::kPerson;
  if (rem < kPersonProportion + kAuctionProportion) return EventKind::kAuction;
  return EventKind::kBid;
}

std::int64_t Generator::TimeOf(std::uint64_t n) const {
  if (config_.kind == GeneratorKind::kReference) return ReferenceTimeMs(n) * 1'000'000;
  return config_.base_time_ns + static_cast<std::int64_t>(static_cast<double>(n) * ns_per_event_);
}

std::int64_t Generator::LastBase0PersonId(std::uint64_t n) {
  const auto epoch = static_cast<std::int64_t>(n / kTotalProportion);
  const auto offset = std::min<std::int64_t>(static_cast<std::int64_t>(n % kTotalProportion),
                                             kPersonProportion - 1);
  return epoch * kPersonProportion + offset;
}

std::int64_t Generator::LastBase0AuctionId(std::uint64_t n) {
  auto epoch = static_cast<std::int64_t>(n / kTotalProportion);
  auto offset = static_cast<std::int64_t>(n % kTotalProportion);
  if (offset < kPersonProportion) {
    --epoch;  // no auction yet in this epoch: the previous one's last
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    offset = kAuctionProportion - 1;
  } else {
    offset -= kPersonProportion;
  }
  return epoch * kAuctionProportion + offset;
}

void Generator::Make(std::uint64_t n, Event* out) const {
  if (config_.kind == GeneratorKind::kReference) {
    MakeReference(n, out);
  } else {
    MakeDefault(n, out);
  }
}

void Generator::MakeDefault(std::uint64_t n, Event* out) const {
  EventRandom r(config_.seed, n);
  Rules<EventRandom> rules(r, config_, n);
  const std::int64_t time = TimeOf(n);
  // Every byte of the record defined, padding too.
  std::memset(static_cast<void*>(out), 0, offsetof(Event, bytes) + sizeof(Auction));
  out->kind = KindOf(n);
  switch (out->kind) {
    case EventKind::kPerson:
      rules.PutPerson(out->person);
      out->person.date_time = time;
      return;
    case EventKind::kAuction: {
      Auction& a = out->auction;
      a.id = rules.auction_id();
      a.seller = rules.Seller();
      a.category = rules.Category();
      a.initial_bid = NextPrice(r);
      a.reserve = a.initial_bid + NextPrice(r);
      a.date_time = time;
      // Open until within twice the time that auctions_in_flight more auctions take to come.
      const auto events_for_auctions = static_cast<std::uint64_t>(
          config_.auctions_in_flight * kTotalProportion / kAuctionProportion);
      const std::int64_t horizon = TimeOf(n + events_for_auctions) - time;
      a.expires = time + 1 + r.Below(std::max<std::int64_t>(horizon * 2, 1));
      PutRandomString(a.item_name, r, 20);
      PutRandomString(a.description, r, 100);
      return;
    }
    case EventKind::kBid:
      rules.PutBid(out->bid);
      PutChannel(out->bid.channel, r);
      out->bid.date_time = time;
      return;
  }
}

// The reference's draws, in its order (nexmark's PersonGenerator, AuctionGenerator and
// BidGenerator), from java.util.Random seeded with the event id; every string trimmed.
void Generator::MakeReference(std::uint64_t n, Event* out) const {
  ReferenceRandom r(static_cast<std::int64_t>(n));
  Rules<ReferenceRandom> rules(r, config_, n);
  const std::int64_t time_ms = ReferenceTimeMs(n);
  std::memset(static_cast<void*>(out), 0, offsetof(Event, bytes) + sizeof(Auction));
  out->kind = KindOf(n);
  char* const extra = reinterpret_cast<char*>(out->bytes) + out->record_size();
  switch (out->kind) {
    case EventKind::kPerson: {
      const std::size_t strings = rules.PutPerson(out->person);
      out->person.date_time = time_ms * 1'000'000;
      out->extra_size = static_cast<std::uint32_t>(
          PutExtra(r, static_cast<int>(kPersonBaseBytes + strings), kPersonAverageBytes, extra));
      return;
    }
    case EventKind::kAuction: {
      Auction& a = out->auction;
      a.id = rules.auction_id();
      a.seller = rules.Seller();
      a.category = rules.Category();
      a.initial_bid = NextPrice(r);
      // Open until within twice the time that auctions_in_flight more auctions take to come.
      const auto events_for_auctions = static_cast<std::uint64_t>(
          config_.auctions_in_flight * kTotalProportion / kAuctionProportion);
      const std::int64_t horizon_ms = ReferenceTimeMs(n + events_for_auctions) - time_ms;
      a.date_time = time_ms * 1'000'000;
      a.expires = (time_ms + 1 + r.Below(std::max<std::int64_t>(horizon_ms * 2, 1))) * 1'000'000;
      const std::string_view item = PutRandomString(a.item_name, r, 20);
      const std::string_view description = PutRandomString(a.description, r, 100);
      a.reserve = a.initial_bid + NextPrice(r);
      const auto size = static_cast<int>(kAuctionBaseBytes + item.size() + description.size());
      out->extra_size = static_cast<std::uint32_t>(PutExtra(r, size, kAuctionAverageBytes, extra));
      return;
    }
    case EventKind::kBid: {
      rules.PutBid(out->bid);
      out->bid.date_time = time_ms * 1'000'000;
      out->extra_size =
          static_cast<std::uint32_t>(PutExtra(r, kBidBaseBytes, kBidAverageBytes, extra));
      ReferenceRandom channels(static_cast<std::int64_t>(n) ^ kChannelSeed);
      PutChannel(out->bid.channel, channels);
      return;
    }
  }
}

}  // namespace kappa::nexmark
