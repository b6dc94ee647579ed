#include "kafka/records.h"

#include <bit>
#include <cstring>

namespace kappa::kafka {
namespace {

// Little-endian fixed-width writes and reads into byte buffers.
template <class T>
void Put(std::vector<std::byte>* out, T value) {
  std::byte b[sizeof(T)];
  std::memcpy(b, &value, sizeof(T));
  out->insert(out->end(), b, b + sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  template <class T>
  bool Get(T* value) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetBytes(void* out, std::size_t n) {
    if (bytes_.size() - pos_ < n) return false;
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

static_assert(std::endian::native == std::endian::little, "the encodings are little-endian");

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Malformed(const std::string& what) {
  return Status::Error(StatusCode::kCorrupt, "malformed Kafka position record: " + what);
}

}  // namespace

std::optional<OriginId> ParseOriginId(std::string_view hex) {
  OriginId id{};
  if (hex.size() != 2 * id.size()) return std::nullopt;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const int hi = HexDigit(hex[2 * i]);
    const int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id[i] = static_cast<std::byte>(hi << 4 | lo);
  }
  return id;
}

std::string OriginIdHex(const OriginId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const std::byte b : id) {
    hex += kDigits[std::to_integer<unsigned>(b) >> 4];
    hex += kDigits[std::to_integer<unsigned>(b) & 15];
  }
  return hex;
}

std::array<std::byte, OriginHeader::kSize> OriginHeader::Encode() const {
  std::vector<std::byte> out;
  out.reserve(kSize);
  Put(&out, kVersion);
  Put(&out, type);
  Put(&out, offset);
  Put(&out, timestamp_ns);
  out.insert(out.end(), origin.begin(), origin.end());
  std::array<std::byte, kSize> bytes;
  std::memcpy(bytes.data(), out.data(), kSize);
  return bytes;
}

std::optional<OriginHeader> OriginHeader::Decode(std::span<const std::byte> bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  Reader r(bytes);
  std::uint8_t version = 0;
  OriginHeader h;
  if (!r.Get(&version) || version != kVersion || !r.Get(&h.type) || !r.Get(&h.offset) ||
      !r.Get(&h.timestamp_ns) || !r.GetBytes(h.origin.data(), h.origin.size()))
    return std::nullopt;
  return h;
}

// Layout (little-endian): version u8, 0 u8, topic length u16, topic, partition count u32, then
// per partition: partition i32, next Kafka offset i64, origin count u32, then per origin:
// identity 16 bytes, next kappa offset u64.
std::vector<std::byte> IngestPosition::Encode() const {
  std::vector<std::byte> out;
  Put(&out, kVersion);
  Put(&out, std::uint8_t{0});
  Put(&out, static_cast<std::uint16_t>(topic.size()));
  for (const char c : topic) out.push_back(static_cast<std::byte>(c));
  Put(&out, static_cast<std::uint32_t>(partitions.size()));
  for (const PartitionPosition& p : partitions) {
    Put(&out, p.partition);
    Put(&out, p.next_offset);
    Put(&out, static_cast<std::uint32_t>(p.origins.size()));
    for (const OriginProgress& o : p.origins) {
      out.insert(out.end(), o.origin.begin(), o.origin.end());
      Put(&out, o.next_offset);
    }
  }
  return out;
}

Result<IngestPosition> IngestPosition::Decode(std::span<const std::byte> bytes) {
  Reader r(bytes);
  std::uint8_t version = 0;
  std::uint8_t zero = 0;
  std::uint16_t topic_size = 0;
  if (!r.Get(&version) || !r.Get(&zero) || !r.Get(&topic_size)) return Malformed("truncated");
  if (version != kVersion) return Malformed("version " + std::to_string(version));
  if (zero != 0) return Malformed("reserved byte " + std::to_string(zero) + ", not 0");
  if (topic_size == 0 || topic_size > 249)
    return Malformed("topic length " + std::to_string(topic_size));
  IngestPosition position;
  position.topic.resize(topic_size);
  std::uint32_t partitions = 0;
  if (!r.GetBytes(position.topic.data(), topic_size) || !r.Get(&partitions))
    return Malformed("truncated");
  // Each partition takes at least 16 bytes: a count beyond what is left is damage, not a
  // reason to allocate.
  if (partitions > r.remaining() / 16)
    return Malformed("partition count " + std::to_string(partitions));
  position.partitions.resize(partitions);
  for (PartitionPosition& p : position.partitions) {
    std::uint32_t origins = 0;
    if (!r.Get(&p.partition) || !r.Get(&p.next_offset) || !r.Get(&origins))
      return Malformed("truncated");
    if (p.partition < 0 || p.next_offset < 0) return Malformed("negative partition or offset");
    if (origins > r.remaining() / 24) return Malformed("origin count " + std::to_string(origins));
    p.origins.resize(origins);
    for (OriginProgress& o : p.origins)
      if (!r.GetBytes(o.origin.data(), o.origin.size()) || !r.Get(&o.next_offset))
        return Malformed("truncated");
  }
  if (r.remaining() != 0) return Malformed(std::to_string(r.remaining()) + " bytes after the end");
  return position;
}

}  // namespace kappa::kafka
