// Typed ingest: JSON lines and CSV encoded into NEXMark bids through the catalog
// (kappa::ingest), each against its baseline in the same run:
//   JSON lines: simdjson's DOM parser over the same lines, reading the bid's fields by name (the
//               code a user of simdjson would write to get the values, without the encoding
//               into records, the checks and the messages);
//   CSV:        a hand-written loop that splits each line at its commas and converts the numbers
//               with std::from_chars (no quoting, no checks);
// and encode-and-append into a log against appending the records already encoded. Lines per
// second on one core, with the target of 5 M lines/s for NEXMark-sized records. Every figure is
// the median of several rounds that alternate with their baseline.
//
// The bids are the default generator's shape (nexmark/model.h): "auction", "bidder", "price",
// "channel" ("channel-NNNN"), "date_time" and an empty "extra" tail, as the lines `kappa log
// dump --format jsonl` prints without their "offset", "type", "timestamp_ns" and "kind".
//
// Usage: ingest_bench [--lines=N] [--rounds=R]
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.h"
#include "engine/record_catalog.h"
#include "ingest/csv_encoder.h"
#include "ingest/json_lines_encoder.h"
#include "memlog/log.h"
#include "memlog/producer.h"

namespace kappa::bench {
namespace {

struct Options {
  std::size_t lines = 2'000'000;
  int rounds = 5;
};

// Records are encoded into a buffer reset every kBatch lines, as `kappa log append` does
// between its appends.
constexpr std::size_t kBatch = 4096;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double NowS() { return static_cast<double>(MonotonicNs()) * 1e-9; }

engine::CatalogEntry BidType() {
  auto catalog = engine::RecordCatalog::Parse(
      "3 bid auction:i64 bidder:i64 price:i64 channel:string16 date_time:i64 extra:tail\n",
      "ingest_bench");
  return catalog.value().entries().at(0);
}

struct Input {
  std::string json;  // one object per line
  std::string csv;   // a header, then one bid per line
};

Input MakeBids(std::size_t count) {
  std::mt19937_64 random(42);
  Input in;
  in.csv = "auction,bidder,price,channel,date_time,extra\n";
  std::int64_t time = 1796348133676323752;
  char line[256];
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t auction = 1000 + static_cast<std::int64_t>(random() % 60000);
    const std::int64_t bidder = 1000 + static_cast<std::int64_t>(random() % 20000);
    const std::int64_t price = static_cast<std::int64_t>(random() % 100'000'000);
    const int channel = static_cast<int>(random() % 10000);
    time += 1000;
    in.json.append(
        line, std::snprintf(line, sizeof line,
                            "{\"auction\":%lld,\"bidder\":%lld,\"price\":%lld,"
                            "\"channel\":\"channel-%d\",\"date_time\":%lld,"
                            "\"extra\":\"\"}\n",
                            static_cast<long long>(auction), static_cast<long long>(bidder),
                            static_cast<long long>(price), channel, static_cast<long long>(time)));
    in.csv.append(
        line, std::snprintf(line, sizeof line, "%lld,%lld,%lld,channel-%d,%lld,\n",
                            static_cast<long long>(auction), static_cast<long long>(bidder),
                            static_cast<long long>(price), channel, static_cast<long long>(time)));
  }
  in.json.append(64, ' ');  // the padding the parsers read past the last line
  in.csv.append(64, ' ');
  return in;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

// Lines per second for kappa's JSON lines encoder.
double KappaJson(const engine::CatalogEntry& type, std::string_view input, std::size_t lines) {
  ingest::JsonLinesEncoder encoder(type);
  std::string out;
  out.reserve(kBatch * 64);
  std::string error;
  const double start = NowS();
  std::size_t encoded = 0;
  for (std::size_t at = 0; encoded < lines; ++encoded) {
    const std::size_t end = input.find('\n', at);
    if (!encoder.Encode(input.substr(at, end - at), &out, &error)) Fail(error);
    at = end + 1;
    if (encoded % kBatch == kBatch - 1) out.clear();
  }
  const double seconds = NowS() - start;
  benchmark::DoNotOptimize(out.data());
  return static_cast<double>(lines) / seconds;
}

// Lines per second for simdjson's DOM parser reading each field by name.
double SimdjsonJson(std::string_view input, std::size_t lines) {
  simdjson::dom::parser parser;
  std::int64_t sum = 0;
  const double start = NowS();
  for (std::size_t at = 0, n = 0; n < lines; ++n) {
    const std::size_t end = input.find('\n', at);
    simdjson::dom::element doc;
    if (parser.parse(input.data() + at, end - at, false).get(doc)) Fail("simdjson parse");
    simdjson::dom::object bid = doc.get_object().value_unsafe();
    sum += bid["auction"].get_int64().value_unsafe() + bid["bidder"].get_int64().value_unsafe() +
           bid["price"].get_int64().value_unsafe() + bid["date_time"].get_int64().value_unsafe();
    sum += static_cast<std::int64_t>(bid["channel"].get_string().value_unsafe().size() +
                                     bid["extra"].get_string().value_unsafe().size());
    at = end + 1;
  }
  const double seconds = NowS() - start;
  benchmark::DoNotOptimize(sum);
  return static_cast<double>(lines) / seconds;
}

double KappaCsv(const engine::CatalogEntry& type, std::string_view input, std::size_t lines) {
  ingest::CsvEncoder encoder(type, {});
  std::string out;
  out.reserve(kBatch * 64);
  std::string error;
  const double start = NowS();
  std::size_t encoded = 0;
  for (std::size_t at = 0; encoded < lines;) {
    std::size_t line_ends = 0;
    const std::size_t length =
        ingest::CsvEncoder::RecordLength(input.substr(at), /*at_end=*/false, &line_ends);
    const ingest::CsvEncoder::Outcome outcome =
        encoder.Encode(input.substr(at, length), &out, &error);
    if (outcome == ingest::CsvEncoder::Outcome::kBad) Fail(error);
    at += length;
    if (outcome != ingest::CsvEncoder::Outcome::kRecord) continue;
    if (encoded++ % kBatch == kBatch - 1) out.clear();
  }
  const double seconds = NowS() - start;
  benchmark::DoNotOptimize(out.data());
  return static_cast<double>(lines) / seconds;
}

// A bare loop: split at commas, convert the numbers, keep the strings' sizes.
double LoopCsv(std::string_view input, std::size_t lines) {
  std::int64_t sum = 0;
  const double start = NowS();
  std::size_t at = input.find('\n') + 1;  // past the header
  for (std::size_t n = 0; n < lines; ++n) {
    const std::size_t end = input.find('\n', at);
    std::string_view line = input.substr(at, end - at);
    for (int cell = 0; cell < 6; ++cell) {
      const std::size_t comma = std::min(line.find(','), line.size());
      const std::string_view text = line.substr(0, comma);
      if (cell == 3 || cell == 5) {
        sum += static_cast<std::int64_t>(text.size());
      } else {
        std::int64_t v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        sum += v;
      }
      line.remove_prefix(std::min(comma + 1, line.size()));
    }
    at = end + 1;
  }
  const double seconds = NowS() - start;
  benchmark::DoNotOptimize(sum);
  return static_cast<double>(lines) / seconds;
}

// Encode-and-append (with_encoding) or append of the records encoded beforehand, into a log
// under the overwrite policy whose ring was written through once before (no page faults).
double Append(memlog::Log* log, const engine::CatalogEntry& type, std::string_view input,
              std::size_t lines, bool with_encoding) {
  std::unique_ptr<memlog::Producer> producer = log->NewProducer().value();
  ingest::JsonLinesEncoder encoder(type);
  std::string error;
  std::vector<std::string> encoded_batches;  // the baseline's records, encoded before its timer
  std::string out;
  std::vector<std::size_t> ends;
  std::vector<memlog::RecordView> views;
  auto encode_batch = [&](std::size_t* at, std::size_t count) {
    out.clear();
    ends.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t end = input.find('\n', *at);
      if (!encoder.Encode(input.substr(*at, end - *at), &out, &error)) Fail(error);
      ends.push_back(out.size());
      *at = end + 1;
    }
  };
  auto append_batch = [&](const std::string& bytes) {
    views.clear();
    for (std::size_t i = 0, begin = 0; i < ends.size(); begin = ends[i++]) {
      views.push_back(memlog::RecordView{
          .payload = std::as_bytes(std::span<const char>(bytes.data() + begin, ends[i] - begin)),
          .type = type.type});
    }
    if (producer->AppendBatch(views) != memlog::AppendResult::kOk) Fail("append");
  };
  if (!with_encoding) {
    for (std::size_t at = 0, n = 0; n < lines; n += kBatch) {
      encode_batch(&at, std::min(kBatch, lines - n));
      encoded_batches.push_back(out);
    }
  }
  const double start = NowS();
  std::size_t batch = 0;
  for (std::size_t at = 0, n = 0; n < lines; n += kBatch, ++batch) {
    if (with_encoding) {
      encode_batch(&at, std::min(kBatch, lines - n));
      append_batch(out);
    } else {
      append_batch(encoded_batches[batch]);
    }
  }
  return static_cast<double>(lines) / (NowS() - start);
}

void Report(const char* what, double kappa, const char* baseline_what, double baseline,
            const char* target) {
  std::printf("%-42s %6.2f M lines/s | %-34s %6.2f M lines/s | ratio %5.2f | %s\n", what,
              kappa / 1e6, baseline_what, baseline / 1e6, kappa / baseline, target);
}

int Main(const Options& options) {
  const engine::CatalogEntry bid = BidType();
  const Input in = MakeBids(options.lines);
  std::printf(
      "ingest_bench: %zu NEXMark bids, %.0f bytes per JSON line, %.0f per CSV line; "
      "median of %d rounds; one core\n",
      options.lines, static_cast<double>(in.json.size()) / options.lines,
      static_cast<double>(in.csv.size()) / options.lines, options.rounds);

  std::vector<double> kappa_json, simdjson_json, kappa_csv, loop_csv, append_encoded, append_raw;
  const std::string path = UniqueShmPath("ingest");
  memlog::CreateOptions create;
  create.capacity = std::uint64_t{256} << 20;
  create.policy = memlog::Policy::kOverwrite;
  std::unique_ptr<memlog::Log> log = memlog::Log::Create(path, create).value();
  Append(log.get(), bid, in.json, options.lines, /*with_encoding=*/false);  // fault the ring in
  for (int round = 0; round < options.rounds; ++round) {
    kappa_json.push_back(KappaJson(bid, in.json, options.lines));
    simdjson_json.push_back(SimdjsonJson(in.json, options.lines));
    kappa_csv.push_back(KappaCsv(bid, in.csv, options.lines));
    loop_csv.push_back(LoopCsv(in.csv, options.lines));
    append_encoded.push_back(Append(log.get(), bid, in.json, options.lines, true));
    append_raw.push_back(Append(log.get(), bid, in.json, options.lines, false));
  }
  log.reset();
  ::unlink(path.c_str());
  Report("JSON lines -> bids (kappa::ingest)", Median(kappa_json), "simdjson DOM, fields by name",
         Median(simdjson_json), "target >= 5 M lines/s");
  Report("CSV -> bids (kappa::ingest)", Median(kappa_csv), "split at commas, from_chars",
         Median(loop_csv), "target >= 5 M lines/s");
  Report("JSON lines -> bids -> log (encode+append)", Median(append_encoded),
         "append of the bids encoded before", Median(append_raw), "what encoding costs");
  return 0;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) {
  kappa::bench::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--lines=")) {
      options.lines = std::strtoull(argv[i] + 8, nullptr, 10);
    } else if (arg.starts_with("--rounds=")) {
      options.rounds = std::atoi(argv[i] + 9);
    } else {
      std::fprintf(stderr, "usage: ingest_bench [--lines=N] [--rounds=R]\n");
      return 2;
    }
  }
  if (options.lines == 0 || options.rounds <= 0) return 2;
  return kappa::bench::Main(options);
}
