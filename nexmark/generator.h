// Generator: NEXMark events, by the rules of the nexmark project's generator (a port of Apache
// Beam's NEXMark generator). Two kinds:
//
//   kReference  the nexmark project's generator event for event: its random numbers
//               (java.util.Random seeded with the event id, nexmark/java_random.h), its order of
//               draws, its trimmed strings, its millisecond times and its `extra` padding, which
//               follows each record in the log (a record tail: engine/record.h). The reference's
//               bids have no channel: kappa draws one by a rule of its own (below). Checked
//               against the first 10,000 events of the reference (tests/nexmark/data/).
//   kDefault    the same rules and distributions with kappa's own, faster random numbers
//               (splitmix64 over the seed and the event number), nanosecond times and no
//               `extra` padding: records of fixed size.
//
// The rules: event n (from 0) is a person, an auction or a bid by n mod 50: 0 a person, 1–3
// auctions, the rest bids (1 : 3 : 46). Ids are dense (persons and auctions from 1000, in
// creation order). Auctions have a seller that is, three times in four, the latest "hot" seller
// (person ids rounded down to a multiple of 100), else a random one of the 1000 most recent
// persons (or up to 10 not yet created, as the nexmark generator does); bids are on the latest
// hot auction half of the time, else on one of the 100 auctions in flight (or up to 10 ahead),
// by a hot bidder three times in four. Event time advances by 1e9 / events_per_second ns per
// event from base_time_ns (the reference: in whole milliseconds, as it counts). Prices are
// 10^(6u) × 100 rounded (100 to 10^8); auctions expire within twice the time it takes to create
// auctions_in_flight more auctions. Strings are 3 to N-1 lower-case letters and spaces, then
// trimmed (so they may be shorter, or empty).
//
// Channels (both kinds): half of the bids go to one of four hot channels (Google, Facebook,
// Baidu, Apple), the rest to "channel-K" with K in [0, 10000), as the nexmark project's later
// generators do. The reference generator draws them from a second java.util.Random seeded with
// the event id XOR 0x6368616e6e656c ("channel"), so that its other draws stay the reference's.
//
// Event n depends only on the configuration and n: Make(n) can be called in any order, and a
// generation can resume at any event.
//
// Thread safety: a Generator is immutable; Make may be called from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "nexmark/model.h"
#include "serving/status.h"

namespace kappa::nexmark {

enum class GeneratorKind : std::uint8_t { kDefault, kReference };

struct GeneratorConfig {
  GeneratorKind kind = GeneratorKind::kDefault;
  std::uint64_t seed = 1;          // kDefault's (the reference seeds each event with its id)
  std::int64_t base_time_ns = 0;   // event time of event 0 (kReference: whole milliseconds)
  double events_per_second = 1e6;  // the event-time rate (not the generation speed)
  std::int64_t active_people = 1000;
  std::int64_t auctions_in_flight = 100;
  int hot_auction_ratio = 2;  // 1 in N bids on a random auction, the rest on the hot one
  int hot_bidder_ratio = 4;
  int hot_seller_ratio = 4;
};

enum class EventKind : std::uint8_t { kPerson, kAuction, kBid };

// Room for the longest `extra` padding the reference can draw: an auction's whose strings trim to
// nothing, 541 bytes (generator.cc checks the bound at compile time).
inline constexpr std::size_t kMaxExtraBytes = 552;

struct Event {
  EventKind kind;
  std::uint32_t extra_size;  // bytes of `extra` padding after the record (kReference)
  union {
    Person person;
    Auction auction;
    Bid bid;
    std::byte bytes[sizeof(Auction) + kMaxExtraBytes];  // the record, then its padding
  };
  std::int64_t date_time() const;
  // The padding that follows the record (NEXMark's `extra` field).
  std::string_view extra() const;
  // The event as a log carries it: its record type (RecordType<T>::kLogType) and bytes (the
  // record, then its padding).
  std::uint16_t type() const;
  std::span<const std::byte> payload() const;
  std::size_t record_size() const;  // sizeof the record, without the padding
};

// Names the three event types in the record catalog of the log at `log_path`, so that tools
// show their fields.
serving::Status RegisterEventTypes(const std::string& log_path);

class Generator {
 public:
  static constexpr int kPersonProportion = 1;
  static constexpr int kAuctionProportion = 3;
  static constexpr int kBidProportion = 46;
  static constexpr int kTotalProportion = kPersonProportion + kAuctionProportion + kBidProportion;
  static constexpr std::int64_t kFirstPersonId = 1000;
  static constexpr std::int64_t kFirstAuctionId = 1000;
  static constexpr std::int64_t kFirstCategoryId = 10;
  static constexpr int kCategories = 5;

  // REQUIRES (kReference): base_time_ns a whole number of milliseconds (CheckConfig says so).
  explicit Generator(const GeneratorConfig& config);
  // Why `config` cannot make events, or Ok.
  static serving::Status CheckConfig(const GeneratorConfig& config);

  const GeneratorConfig& config() const { return config_; }
  static EventKind KindOf(std::uint64_t n);
  std::int64_t TimeOf(std::uint64_t n) const;
  // Event n.
  void Make(std::uint64_t n, Event* out) const;
  const char* kind_name() const;  // "default" or "reference"

  // The id of the last person / auction created at or before event n (base 0, before the
  // first-id offset), as the nexmark generator counts them.
  static std::int64_t LastBase0PersonId(std::uint64_t n);
  static std::int64_t LastBase0AuctionId(std::uint64_t n);

 private:
  void MakeDefault(std::uint64_t n, Event* out) const;
  void MakeReference(std::uint64_t n, Event* out) const;
  std::int64_t ReferenceTimeMs(std::uint64_t n) const;

  GeneratorConfig config_;
  double ns_per_event_;
  double us_per_event_;  // the reference's inter-event delay
};

}  // namespace kappa::nexmark
