// NEXMark queries as kappa pipelines, each writing one view named after it (or options.view).
//
//   q0   pass-through: every bid, into a result list
//   q1   currency conversion: every bid with its price × euro_rate (0.908), into a result list
//   q2   selection: (auction, price) of bids on auctions whose id is a multiple of 123, into a
//        result list
//   q3   local item suggestion: auctions of category 10 with their seller when the seller lives
//        in OR, ID or CA (name, city, state, auction), into a result list; a regular join, as
//        the SQL's: an auction meets its seller whether the seller registered before or after
//        it (both sides kept for join_retention of event time; by default for ever)
//   q5   hot items: bids per auction in 10 s windows sliding by 2 s, then every auction tied
//        for the most bids of each window (auction, num, window_start, window_end), into a
//        result list; a second stage keyed by window start keeps each window's highest counts
//        (ArgMax) until all have come
//   q7   highest bid: every bid equal to the highest price of its 10 s tumbling window, with
//        its `extra` and the window, into a result list; as the SQL's BETWEEN, a bid at a
//        window's end instant is compared with that window too (and may come twice)
//   q8   new users: persons who opened an auction in the 10 s tumbling window they registered
//        in (id, name, window start), into a windowed view keyed by person id
//   q9   winning bids: each auction's highest bid (the first of equal ones) between its start and
//        its expiry, once it has expired, into a keyed view by auction id
//   q4   average closing price per category: the mean of the winning bids of the auctions of
//        each category, into a keyed view by category
//   q6   average selling price per seller: the mean of the winning bids of each seller's last
//        10 closed auctions, into a keyed view by seller
//   q11  user sessions: bids per bidder per session (10 s gap), into a keyed view of each
//        bidder's latest session
//   q10  log to file system: every bid with its `extra` and the day (dt) and minute (hm) the
//        SQL partitions its files by, into a result list (the rows a file sink would write; the
//        list's capacity is how many a user keeps)
//   q12  processing-time windows: bids per bidder in 10 s tumbling windows of processing time,
//        which is the log's append timestamp (the time a record entered the log; `kappa gen`
//        stamps each event with its event time), so a replay gives what the live run gave;
//        into a result list of (bidder, window_start, window_end, bid_count)
//   q13  bounded side input join: every bid with the value of each side input row whose key is
//        the bid's auction % 10,000 (a file's rows, or the nexmark project's 10,000 rows "i,i":
//        nexmark/side_input.h), into a result list; a key's several rows give several rows
//   q14  calculation: bids whose price × 0.908 is between 1,000,000 and 50,000,000 (exclusive,
//        compared exactly), with that price, the part of the day (UTC) they came in, their
//        `extra` padding and its count of 'c', into a result list (the source reads each bid's
//        tail: engine::WithTail)
//   q15  bidding statistics report: per day (UTC), bids, distinct bidders and distinct
//        auctions, in all and by price rank (below 10,000; below 1,000,000; from there), into a
//        keyed view by day number; distinct counts are exact (a first stage keyed by
//        (day, bidder) and (day, auction) finds the firsts, a second counts them)
//   q16  channel statistics report: q15's figures per channel and day with the day's latest
//        minute, into a keyed view by (channel, day) (a composite key, engine/key.h)
//   q17  auction statistics report: per auction and day, bids by price rank and the lowest,
//        highest, mean (truncated to an integer, as the SQL's AVG of a BIGINT) and total
//        price, into a keyed view by (auction, day)
//   q18  find last bid: each bidder's latest bid on each auction (the later in the log of equal
//        times), into a keyed view by (bidder, auction)
//   q19  auction top-10 price: each auction's 10 highest bids with their rank (equal prices in
//        the order they came), into a keyed view by (auction, rank); a bid that enters the top
//        10 rewrites the ranks from its own down
//   q20  expanded bids: every bid with its auction when the auction is of category 10, into a
//        result list; a regular join (a bid meets its auction whether that came before or after
//        it; both sides kept for join_retention, by default for ever, as the SQL's join keeps
//        them); the bid's url and both sides' extra are not in the row
//   q21  add channel id: bids on Apple, Google, Facebook or Baidu (any case) with their id 0 to
//        3, and other bids whose url has a channel_id parameter with its value, into a result
//        list (a bid's url is its channel's: nexmark/url.h)
//   q22  get url directories: every bid with the 4th, 5th and 6th pieces of its url split at
//        '/' (SPLIT_INDEX 3, 4, 5: the three directories), into a result list; a piece the url
//        does not have is empty (the SQL's NULL)
//
// Each is one job: q4 and q6 find the winning bids as q9 does and aggregate them in a second
// stage of the same job, q5 keeps each window's highest counts in a second stage
// (engine/pipeline.h), so every query is reprocessed as a whole.
//
// The windows and parameters are those of the nexmark project's SQL, and can be changed (a new
// definition to reprocess).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/pipeline.h"
#include "operators/regular_join.h"
#include "serving/status.h"

namespace kappa::nexmark {

struct QueryOptions {
  std::string log;                     // the NEXMark log (a path or a bare name)
  engine::SourceOptions source;        // where the query starts reading
  std::string view;                    // the view (and job) name; "" for the query's name
  double euro_rate = 0.908;            // q1
  std::int64_t auction_modulus = 123;  // q2
  std::chrono::nanoseconds window = std::chrono::seconds(10);       // q5, q7, q8, q12
  std::chrono::nanoseconds slide = std::chrono::seconds(2);         // q5
  std::chrono::nanoseconds session_gap = std::chrono::seconds(10);  // q11
  std::chrono::nanoseconds max_out_of_orderness{0};  // events' disorder the watermark allows
  // q3, q20: how long (in event time) each side is kept; by default for ever.
  std::chrono::nanoseconds join_retention{operators::kForever};
  // q13: the side input's CSV file (nexmark/side_input.h); "" for the nexmark project's 10,000
  // rows "i,i". Read when the query is made: a changed file is a new definition to reprocess.
  std::string side_input;
  std::uint64_t list_capacity = 1 << 16;  // rows a result list keeps
  std::uint64_t expected_keys = 1 << 16;  // keyed and windowed views, per partition
};

struct QueryInfo {
  const char* name;
  const char* summary;
};
// The queries MakeQuery knows, in order.
const std::vector<QueryInfo>& Queries();

// The pipeline of query `name` ("q0", "q1", ...): the job that writes its view. Error: an
// unknown name, a bad parameter.
serving::Result<engine::Job> MakeQuery(const std::string& name, const QueryOptions& options);
}  // namespace kappa::nexmark
