// Fuzzes the decoders of what an ingester reads from outside: the position records of a log
// (anyone who can write the log can write them) and the `kappa` header of Kafka records (anyone
// who can produce to the topic). Neither may crash or read out of bounds, and whatever decodes
// must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "kafka/records.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto position = kappa::kafka::IngestPosition::Decode(bytes);
  if (position.ok()) {
    const std::vector<std::byte> again = position->Encode();
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  }
  if (auto header = kappa::kafka::OriginHeader::Decode(bytes)) {
    const auto again = header->Encode();
    if (std::memcmp(again.data(), data, again.size()) != 0) std::abort();
  }
  return 0;
}
