#include "nexmark/generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "engine/record_catalog.h"

namespace kappa::nexmark {
namespace {

constexpr std::int64_t kPersonIdLead = 10;
constexpr std::int64_t kAuctionIdLead = 10;
constexpr std::int64_t kHotSellerRatio = 100;  // hot ids are multiples of 100
constexpr std::int64_t kHotAuctionRatio = 100;
constexpr std::int64_t kHotBidderRatio = 100;
constexpr int kMinStringLength = 3;

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

// Lower-case letters with a space now and then, 3 to max_length - 1 long (nexmark's nextString).
template <std::size_t N>
void PutRandomString(char (&field)[N], EventRandom& r, int max_length) {
  char text[128];
  const auto length =
      static_cast<std::size_t>(kMinStringLength + r.Below(max_length - kMinStringLength));
  for (std::size_t i = 0; i < length && i < sizeof text; ++i)
    text[i] = r.Below(13) == 0 ? ' ' : static_cast<char>('a' + r.Below(26));
  Put(field, std::string_view(text, std::min(length, sizeof text)));
}

std::int64_t NextPrice(EventRandom& r) {
  return std::llround(std::pow(10.0, r.Unit() * 6.0) * 100.0);
}

template <std::size_t N>
std::string_view Pick(EventRandom& r, const std::string_view (&choices)[N]) {
  return choices[r.Below(static_cast<std::int64_t>(N))];
}

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

std::span<const std::byte> Event::payload() const {
  switch (kind) {
    case EventKind::kPerson:
      return std::as_bytes(std::span(&person, 1));
    case EventKind::kAuction:
      return std::as_bytes(std::span(&auction, 1));
    case EventKind::kBid:
      return std::as_bytes(std::span(&bid, 1));
  }
  return {};
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
    : config_(config), ns_per_event_(1e9 / std::max(config.events_per_second, 1e-9)) {}

EventKind Generator::KindOf(std::uint64_t n) {
  const auto rem = static_cast<int>(n % kTotalProportion);
  if (rem < kPersonProportion) return EventKind::kPerson;
  if (rem < kPersonProportion + kAuctionProportion) return EventKind::kAuction;
  return EventKind::kBid;
}

std::int64_t Generator::TimeOf(std::uint64_t n) const {
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
  EventRandom r(config_.seed, n);
  const std::int64_t time = TimeOf(n);
  const std::int64_t last_person = LastBase0PersonId(n);
  // A random person among the active ones, or a few not created yet.
  auto some_person = [&] {
    const std::int64_t people = last_person + 1;
    const std::int64_t active = std::min(people, config_.active_people);
    return people - active + r.Below(active + kPersonIdLead);
  };
  std::memset(static_cast<void*>(out), 0, sizeof *out);  // every byte defined, padding too
  out->kind = KindOf(n);
  switch (out->kind) {
    case EventKind::kPerson: {
      Person& p = out->person;
      p.id = last_person + kFirstPersonId;
      char name[32];
      const std::string_view first = Pick(r, kFirstNames), last = Pick(r, kLastNames);
      std::snprintf(name, sizeof name, "%.*s %.*s", static_cast<int>(first.size()), first.data(),
                    static_cast<int>(last.size()), last.data());
      Put(p.name, name);
      char user[8], domain[8], email[24];
      PutRandomString(user, r, 7);
      PutRandomString(domain, r, 5);
      std::snprintf(email, sizeof email, "%s@%s.com", user, domain);
      Put(p.email_address, email);
      // Each draw in its own statement: the order of a call's arguments is unspecified, and
      // compilers differ in it.
      int group[4];
      for (int& g : group) g = static_cast<int>(r.Below(10000));
      char card[24];
      std::snprintf(card, sizeof card, "%04d %04d %04d %04d", group[0], group[1], group[2],
                    group[3]);
      Put(p.credit_card, card);
      Put(p.city, Pick(r, kCities));
      Put(p.state, Pick(r, kStates));
      p.date_time = time;
      return;
    }
    case EventKind::kAuction: {
      Auction& a = out->auction;
      a.id = LastBase0AuctionId(n) + kFirstAuctionId;
      a.seller =
          (r.Below(config_.hot_seller_ratio) > 0 ? (last_person / kHotSellerRatio) * kHotSellerRatio
                                                 : some_person()) +
          kFirstPersonId;
      a.category = kFirstCategoryId + r.Below(kCategories);
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
    case EventKind::kBid: {
      Bid& b = out->bid;
      const std::int64_t last_auction = LastBase0AuctionId(n);
      if (r.Below(config_.hot_auction_ratio) > 0) {
        b.auction = (last_auction / kHotAuctionRatio) * kHotAuctionRatio;
      } else {
        const std::int64_t first =
            std::max<std::int64_t>(last_auction - config_.auctions_in_flight, 0);
        b.auction = first + r.Below(last_auction - first + 1 + kAuctionIdLead);
      }
      b.auction += kFirstAuctionId;
      b.bidder = (r.Below(config_.hot_bidder_ratio) > 0
                      ? (last_person / kHotBidderRatio) * kHotBidderRatio + 1
                      : some_person()) +
                 kFirstPersonId;
      b.price = NextPrice(r);
      if (r.Below(100) > 0) {
        Put(b.channel, Pick(r, kHotChannels));
      } else {
        char channel[16];
        std::snprintf(channel, sizeof channel, "channel-%d", static_cast<int>(r.Below(10000)));
        Put(b.channel, channel);
      }
      b.date_time = time;
      return;
    }
  }
}

}  // namespace kappa::nexmark
