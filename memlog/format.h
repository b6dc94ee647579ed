// memlog file format: constants and shared-memory layouts. memlog/FORMAT.md describes the same
// format in prose; keep the two in step (and bump kFormatVersion on any change).
//
// Every struct here is a plain fixed-width layout with explicit padding, shared between
// processes through a file mapping. Fields that change after creation are accessed only through
// std::atomic_ref (see Atomic() in detail/ring.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kappa::memlog {

inline constexpr std::size_t kCacheLinePairSize = 128;

inline constexpr char kMagic[8] = {'K', 'A', 'P', 'P', 'A', 'L', 'O', 'G'};
inline constexpr std::uint32_t kFormatVersion = 2;        // version 2: the archive line and block
inline constexpr std::uint32_t kOldestFormatVersion = 1;  // still opened (it has no archive)
inline constexpr std::uint32_t kHeaderSize = 32768;       // bytes before the ring
inline constexpr std::uint64_t kMinCapacity = 4096;
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 40;
inline constexpr std::uint32_t kMaxProducers = 64;
inline constexpr std::uint32_t kMaxCursors = 64;
inline constexpr std::size_t kMaxCursorName = 63;
inline constexpr std::size_t kFrameAlignment = 8;
inline constexpr std::uint32_t kMaxPayloadLimit = std::uint32_t{1} << 28;  // 256 MiB

// Record types kFirstReservedType and up are kappa's own bookkeeping records, written into a log
// next to the data (FORMAT.md, "Reserved record types"): applications' types are below it, and
// jobs, which read records of their own types only, pass over them.
inline constexpr std::uint16_t kFirstReservedType = 0xFF00;
// A Kafka ingester's position (topic, partitions, next Kafka offsets), appended in the same batch
// as the records it consumed, so that a restarted ingester resumes from the log itself.
inline constexpr std::uint16_t kKafkaPositionType = 0xFF01;
inline constexpr bool IsReservedType(std::uint16_t type) { return type >= kFirstReservedType; }

enum class Policy : std::uint8_t { kBlock = 1, kOverwrite = 2 };
enum class Durability : std::uint8_t { kNone = 0, kInterval = 1, kSync = 2 };

// Written once at creation; protected by `crc` (CRC32C of the bytes before it).
struct SuperBlock {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t capacity;  // ring bytes, a power of two
  std::uint32_t max_payload;
  std::uint8_t policy;
  std::uint8_t durability;  // default durability for handles that do not choose
  std::uint16_t reserved0;
  std::uint32_t unblock_timeout_ms;
  std::uint32_t sync_interval_ms;
  std::uint64_t salt;  // per-log random value mixed into lap tags
  std::int64_t created_unix_ns;
  std::uint32_t max_producers;
  std::uint32_t max_cursors;
  std::uint64_t identity[2];  // 128 random bits naming this log (not its path); 0 in logs made
                              // before identities existed (their identity is then salt, created)
  std::uint8_t reserved1[168];
  std::uint32_t crc;
  std::uint32_t reserved2;
};
static_assert(sizeof(SuperBlock) == 256);
static_assert(offsetof(SuperBlock, capacity) == 16);
static_assert(offsetof(SuperBlock, salt) == 40);
static_assert(offsetof(SuperBlock, identity) == 64);
static_assert(offsetof(SuperBlock, crc) == 248);

// A 128-byte line holding one hot position.
struct PositionLine {
  std::uint64_t value;
  std::uint8_t pad[kCacheLinePairSize - 8];
};
static_assert(sizeof(PositionLine) == kCacheLinePairSize);

// Totals folded in from producers that have gone, plus log-wide events.
struct CounterLine {
  std::uint64_t records;
  std::uint64_t bytes;
  std::uint64_t padding_frames;
  std::uint64_t unblocked_stalls;
  std::uint64_t recoveries;
  std::uint64_t truncated_bytes;  // bytes excluded by recovery as a torn or garbage tail
  std::uint64_t clean_close;      // 1 while no handle is open and the last one closed cleanly
  std::uint8_t pad[kCacheLinePairSize - 56];
};
static_assert(sizeof(CounterLine) == kCacheLinePairSize);

// One per live producer handle. `owner` is 0 when free, else (pid << 32 | nonce).
// `res_start`/`res_end` describe the producer's latest reservation; they are written before
// the reservation is taken, so that a stalled reservation can be turned into padding.
struct ProducerSlot {
  std::uint64_t owner;
  std::uint64_t res_start;
  std::uint64_t res_end;
  std::uint64_t records;
  std::uint64_t bytes;
  std::uint64_t padding_frames;
  std::int64_t attached_unix_ns;
  std::uint8_t pad[kCacheLinePairSize - 56];
};
static_assert(sizeof(ProducerSlot) == kCacheLinePairSize);

enum class CursorState : std::uint64_t { kFree = 0, kClaiming = 1, kActive = 2 };

struct CursorSlot {
  std::uint64_t state;
  std::uint64_t position;  // next offset the cursor's consumer will read
  std::int64_t updated_unix_ns;
  std::uint32_t pid;
  std::uint32_t name_len;
  char name[kMaxCursorName + 1];
  std::uint8_t pad[kCacheLinePairSize - 96];
};
static_assert(sizeof(CursorSlot) == kCacheLinePairSize);

// Idle readers sleep on `sequence` (a futex word, shared between processes); a producer that
// commits while `waiters` is not 0 bumps `sequence` and wakes them.
struct WakeLine {
  std::uint32_t sequence;
  std::uint32_t waiters;
  std::uint8_t pad[kCacheLinePairSize - 8];
};
static_assert(sizeof(WakeLine) == kCacheLinePairSize);

// How a segment file stores its frames.
enum class Codec : std::uint32_t {
  kNone = 0,  // byte for byte (".seg")
  kLz4 = 1,   // LZ4 blocks (".segz")
  kZstd = 2,  // Zstandard blocks (".segz")
};

// Positions of the log's archive (all zero for a log without one). The archiver publishes them;
// readers learn from them where an offset below the ring's head lives.
struct ArchiveLine {
  std::uint64_t active_base;   // base offset of the segment being written; sealed ones lie below
  std::uint64_t earliest;      // oldest offset the archive retains (retention moves it up)
  std::uint64_t written;       // end of the frames written to the active segment
  std::uint64_t sealed_bytes;  // frame bytes in sealed segments
  std::int64_t oldest_sealed_unix_ns;  // when the oldest retained segment was sealed (0: none)
  std::int64_t heartbeat_unix_ns;      // the archiver's last pass
  std::uint32_t archiver_pid;          // 0: no archiver has run since the log was opened
  std::uint32_t segments;              // sealed segments in the manifest
  std::int32_t error;          // errno of the archiver's last failure, 0 if it is running well
  std::uint32_t cursor_slot;   // the cursor slot the archive reads through
  std::uint64_t stored_bytes;  // size of the sealed segments' files (compressed or not)
  Codec codec;                 // the archive's setting for sealed segments
  std::uint8_t pad[kCacheLinePairSize - 76];
};
static_assert(sizeof(ArchiveLine) == kCacheLinePairSize);

inline constexpr char kArchiveMagic[8] = {'K', 'A', 'P', 'P', 'A', 'A', 'R', 'C'};
inline constexpr std::size_t kMaxArchiveDirectory = 4000;
inline constexpr char kArchiveCursorName[] = "kappa.archive";

// Where the log's archive lives: written once at creation, protected by `crc` (CRC32C of the
// bytes before it). All zero (no magic) for a log without an archive.
struct ArchiveBlock {
  char magic[8];
  std::uint32_t directory_len;
  std::uint32_t reserved0;
  char directory[kMaxArchiveDirectory];  // absolute path, NUL-padded
  std::uint8_t reserved1[72];
  std::uint32_t crc;
  std::uint32_t reserved2;
};
static_assert(sizeof(ArchiveBlock) == 4096);

struct LogHeader {
  SuperBlock super;                       // 0
  PositionLine tail;                      // 256: end of the last reservation
  PositionLine head;                      // 384: earliest retained offset
  CounterLine counters;                   // 512
  WakeLine wake;                          // 640
  ArchiveLine archive;                    // 768
  std::uint8_t reserved[128];             // 896
  ProducerSlot producers[kMaxProducers];  // 1024
  CursorSlot cursors[kMaxCursors];        // 9216
  std::uint8_t reserved2[28672 - 17408];  // 17408
  ArchiveBlock archive_block;             // 28672
};
static_assert(offsetof(LogHeader, tail) == 256);
static_assert(offsetof(LogHeader, head) == 384);
static_assert(offsetof(LogHeader, counters) == 512);
static_assert(offsetof(LogHeader, wake) == 640);
static_assert(offsetof(LogHeader, producers) == 1024);
static_assert(offsetof(LogHeader, archive) == 768);
static_assert(offsetof(LogHeader, cursors) == 9216);
static_assert(offsetof(LogHeader, archive_block) == 28672);
static_assert(sizeof(LogHeader) == kHeaderSize);

// Archive segment files ("<base offset, 20 digits>.seg"): this header, then the frames of the
// offsets [base_offset, end) byte for byte as the ring held them; frame `o` is at file offset
// kSegmentHeaderSize + (o - base_offset). The ring parameters below classify those frames (lap
// tags and layout are those of the ring they were copied from). Protected by `crc` (CRC32C of the
// bytes before it).
//
// A compressed sealed segment ("<base>.segz") has the same header with `codec` set, then its
// blocks back to back from kSegmentHeaderSize, then the block index at `block_index_at`: one
// BlockEntry per block, in offset order, protected by `block_index_crc`. Block i holds the frames
// of [entry i's first_offset, entry i+1's (or end_offset)) byte for byte, compressed on its own:
// whole frames only, about kBlockBytes each (one larger frame makes a larger block).
inline constexpr char kSegmentMagic[8] = {'K', 'A', 'P', 'P', 'A', 'S', 'E', 'G'};
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::uint32_t kSegmentHeaderSize = 4096;
inline constexpr std::uint64_t kBlockBytes = 256 << 10;

struct SegmentHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t identity[2];  // the log's (SuperBlock::identity)
  std::uint64_t base_offset;
  std::uint64_t capacity;     // of the ring the frames were copied from
  std::uint64_t salt;         // of that ring
  std::uint32_t max_payload;  // of that ring
  std::uint32_t reserved0;
  std::int64_t created_unix_ns;
  // A compressed segment's (all zero in an uncompressed one):
  Codec codec;
  std::uint32_t max_block_bytes;  // the largest block, uncompressed
  std::uint64_t end_offset;       // one past its last frame
  std::uint64_t blocks;
  std::uint64_t block_index_at;   // file offset of the block index
  std::uint32_t block_index_crc;  // CRC32C of the block index
  std::uint32_t reserved3;
  std::uint8_t reserved1[136];
  std::uint32_t crc;
  std::uint32_t reserved2;
};
static_assert(sizeof(SegmentHeader) == 256);
static_assert(offsetof(SegmentHeader, base_offset) == 32);
static_assert(offsetof(SegmentHeader, codec) == 72);
static_assert(offsetof(SegmentHeader, crc) == 248);

struct BlockEntry {
  std::uint64_t first_offset;  // of the block's first frame
  std::uint64_t file_at;       // where its compressed bytes start in the file
  std::uint32_t stored_bytes;  // compressed
  std::uint32_t raw_bytes;     // its frames' bytes
  std::uint32_t crc;           // CRC32C of the compressed bytes
  std::uint32_t reserved;
};
static_assert(sizeof(BlockEntry) == 32);

// A sealed segment's time index ("<base>.idx"): this header, then one IndexEntry per stretch of
// about kIndexStride frame bytes, in offset order. Written once when the segment is sealed.
inline constexpr char kIndexMagic[8] = {'K', 'A', 'P', 'P', 'A', 'I', 'D', 'X'};
inline constexpr std::uint64_t kIndexStride = 64 << 10;

struct IndexHeader {
  char magic[8];
  std::uint64_t base_offset;
  std::uint64_t end_offset;
  std::uint64_t entries;
  std::uint32_t crc;  // CRC32C of the entries, then of this header's bytes before `crc`
  std::uint32_t reserved;
};
static_assert(sizeof(IndexHeader) == 40);

struct IndexEntry {
  std::uint64_t offset;           // a frame boundary
  std::int64_t max_timestamp_ns;  // the largest event time of the records in [offset, next entry)
};
static_assert(sizeof(IndexEntry) == 16);

// Frames. Every frame starts with an 8-byte seal word; a record frame follows it with a 16-byte
// record header and the payload, padded to 8 bytes.
//
// seal = lap_tag(32) << 32 | state(2) << 30 | length(30)
//   state kRecord:  length = payload bytes; frame bytes = AlignFrame(kRecordHeaderSize + length)
//   state kPadding: length = frame bytes (>= 8), nothing to read
//   any other word (state 0 or 3, or another lap's tag) means "not committed here".
inline constexpr std::uint32_t kRecordHeaderSize = 24;
inline constexpr std::uint32_t kSealRecord = 1;
inline constexpr std::uint32_t kSealPadding = 2;

struct RecordHeader {
  std::uint64_t seal;
  std::int64_t timestamp_ns;
  std::uint32_t
      crc;  // CRC32C of (type u16, flags u16, payload length u32, timestamp i64), then the payload
  std::uint16_t type;
  std::uint16_t flags;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);

constexpr std::uint64_t AlignFrame(std::uint64_t n) {
  return (n + kFrameAlignment - 1) & ~std::uint64_t{kFrameAlignment - 1};
}
constexpr std::uint64_t RecordFrameSize(std::uint64_t payload) {
  return AlignFrame(kRecordHeaderSize + payload);
}

// Lap tag for an offset: distinguishes every lap of a ring from the 2^32 - 1 laps around it.
constexpr std::uint32_t LapTag(std::uint64_t offset, unsigned capacity_log2, std::uint64_t salt) {
  const std::uint64_t lap = offset >> capacity_log2;
  return static_cast<std::uint32_t>(lap * 0x9E3779B1u) ^ static_cast<std::uint32_t>(salt) ^
         0xA5A5A5A5u;
}
constexpr std::uint64_t MakeSeal(std::uint32_t tag, std::uint32_t state, std::uint32_t length) {
  return (std::uint64_t{tag} << 32) | (std::uint64_t{state} << 30) | length;
}
constexpr std::uint32_t SealTag(std::uint64_t seal) {
  return static_cast<std::uint32_t>(seal >> 32);
}
constexpr std::uint32_t SealState(std::uint64_t seal) {
  return static_cast<std::uint32_t>(seal >> 30) & 3u;
}
constexpr std::uint32_t SealLength(std::uint64_t seal) {
  return static_cast<std::uint32_t>(seal) & ((1u << 30) - 1);
}

}  // namespace kappa::memlog
