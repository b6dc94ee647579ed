// serving file formats: constants and shared-memory layouts of view files and the namespace
// registry. serving/FORMAT.md describes the same formats in prose; keep the two in step (and bump
// kFormatVersion on any change).
//
// Every struct here is a plain fixed-width layout with explicit padding, shared between
// processes through file mappings. Fields that change after creation are accessed only through
// std::atomic_ref (serving/detail/mapped_words.h); the rest is written once, before the file is
// published, and covered by a checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kappa::serving {

inline constexpr std::size_t kCacheLinePairSize = 128;

inline constexpr char kViewMagic[8] = {'K', 'A', 'P', 'P', 'A', 'V', 'I', 'W'};
inline constexpr char kRegistryMagic[8] = {'K', 'A', 'P', 'P', 'A', 'R', 'E', 'G'};
inline constexpr std::uint32_t kFormatVersion = 1;

inline constexpr std::uint32_t kViewHeaderSize = 4096;  // bytes before the slots
inline constexpr std::uint32_t kMaxFields = 32;
inline constexpr std::size_t kMaxFieldName = 31;
inline constexpr std::size_t kMaxViewName = 63;
inline constexpr std::uint32_t kMaxKeyBytes = 32;
inline constexpr std::uint32_t kMaxStringField = 1024;
inline constexpr std::uint32_t kMaxValueSize = 4096;
inline constexpr std::uint32_t kMaxWindowsPerKey = 64;
inline constexpr std::uint32_t kMaxShards = 64;
inline constexpr std::uint64_t kMinSlots = 16;
inline constexpr std::uint64_t kMaxSlots = std::uint64_t{1} << 32;
inline constexpr std::uint64_t kMaxTopK = 65536;
inline constexpr std::uint64_t kMaxListRows = std::uint64_t{1} << 32;
inline constexpr std::uint32_t kRegistryViews = 256;
inline constexpr std::uint32_t kRegistryAliases = 128;

enum class ViewKind : std::uint32_t { kKeyed = 1, kWindowed = 2, kTopK = 3, kList = 4 };
enum class KeyType : std::uint32_t { kNone = 0, kU64 = 1, kBytes = 2 };
enum class FieldType : std::uint8_t { kI64 = 1, kU64 = 2, kF64 = 3, kString = 4 };

constexpr const char* ViewKindName(ViewKind k) {
  switch (k) {
    case ViewKind::kKeyed:
      return "keyed";
    case ViewKind::kWindowed:
      return "windowed";
    case ViewKind::kTopK:
      return "topk";
    case ViewKind::kList:
      return "list";
  }
  return "unknown";
}
constexpr const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kNone:
      return "none";
    case KeyType::kU64:
      return "u64";
    case KeyType::kBytes:
      return "bytes";
  }
  return "unknown";
}

// One field of the value record.
struct FieldDesc {
  char name[32];      // NUL-terminated, at most kMaxFieldName characters
  std::uint8_t type;  // FieldType
  std::uint8_t reserved0[3];
  std::uint32_t size;    // 8 for numbers; the declared length for strings (NUL-padded)
  std::uint32_t offset;  // within the value record; a multiple of 8
  std::uint32_t reserved1;
};
static_assert(sizeof(FieldDesc) == 48);

// The immutable part of a view header: written before the file is published, then never again.
// `checksum` is detail::Hash64 of the bytes before it.
struct ViewDescriptor {
  char magic[8];                   // 0
  std::uint32_t version;           // 8
  std::uint32_t header_size;       // 12
  std::uint64_t file_size;         // 16
  std::uint32_t kind;              // 24: ViewKind
  std::uint32_t key_type;          // 28: KeyType
  std::uint32_t key_size;          // 32: 8 for kU64, the longest key for kBytes, 0 for kNone
  std::uint32_t value_size;        // 36: bytes of the value record, a multiple of 8
  std::uint32_t slot_size;         // 40: bytes per slot (keyed, windowed, list) or row (top-K)
  std::uint32_t field_count;       // 44
  std::uint64_t capacity;          // 48: slots (keyed, windowed), K (top-K), rows (list)
  std::uint64_t slots_offset;      // 56: file offset of the first slot or buffer
  std::uint64_t hash_seed;         // 64
  std::int64_t window_size_ns;     // 72: windowed
  std::int64_t window_slide_ns;    // 80: windowed
  std::int64_t retention_ns;       // 88: windowed; 0 keeps windows until evicted per key
  std::uint32_t windows_per_key;   // 96: windowed; the last N windows of each key are kept
  std::uint32_t order_field;       // 100: top-K: index of the value field rows are sorted by
  std::uint32_t order_descending;  // 104: top-K: 1 puts the largest first
  std::uint32_t view_version;      // 108
  std::uint32_t generation;      // 112: the file's generation (a keyed table grows into a new one)
  std::uint16_t shard;           // 116: this file's shard of the view version
  std::uint16_t shard_count;     // 118: shards of the view version (a power of two, 1 to 64)
  std::int64_t created_unix_ns;  // 120
  char name[64];                 // 128: the view's name, NUL-terminated
  char key_name[32];             // 192: the key's name, NUL-terminated
  FieldDesc fields[kMaxFields];  // 224
  std::uint8_t reserved1[280];   // 1760
  std::uint64_t checksum;        // 2040
};
static_assert(sizeof(ViewDescriptor) == 2048);
static_assert(offsetof(ViewDescriptor, capacity) == 48);
static_assert(offsetof(ViewDescriptor, name) == 128);
static_assert(offsetof(ViewDescriptor, fields) == 224);
static_assert(offsetof(ViewDescriptor, checksum) == 2040);
static_assert(offsetof(ViewDescriptor, shard) == 116);

enum class WriterState : std::uint64_t { kLive = 0, kSuperseded = 1, kRetired = 2 };

// Who writes the view. pid 0: no writer attached (closed cleanly, or never opened).
struct WriterLine {
  std::uint64_t pid;
  std::uint64_t pid_start_ticks;  // the writer's start time (/proc/<pid>/stat), against pid reuse
  std::int64_t heartbeat_unix_ns;
  std::uint64_t state;  // WriterState
  std::uint64_t epoch;  // +1 each time a writer attaches
  std::uint8_t pad[kCacheLinePairSize - 40];
};
static_assert(sizeof(WriterLine) == kCacheLinePairSize);

// What the view reflects.
struct ProgressLine {
  std::uint64_t applied_offset;  // the log offset up to which the writer has applied records
  std::int64_t watermark_ns;     // event-time watermark the writer has reached
  std::int64_t newest_window;    // windowed: the latest window start written
  std::uint8_t pad[kCacheLinePairSize - 24];
};
static_assert(sizeof(ProgressLine) == kCacheLinePairSize);

struct CounterLine {
  std::uint64_t updates;     // slot writes of any kind
  std::uint64_t inserts;     // new keys, windows or rows
  std::uint64_t entries;     // live entries (keyed, windowed), rows (top-K, list)
  std::uint64_t tombstones;  // keyed, windowed: deleted slots not yet reused
  std::uint64_t expired;     // windowed: windows removed
  std::uint64_t repaired;    // slots found mid-update (writer died) when a writer attached
  std::uint64_t publishes;   // top-K: lists published
  std::uint8_t pad[kCacheLinePairSize - 56];
};
static_assert(sizeof(CounterLine) == kCacheLinePairSize);

// Top-K and list positions.
struct ListLine {
  std::uint64_t count;   // list: rows appended so far (row i lives in slot i % capacity)
  std::uint64_t active;  // top-K: the buffer (0 or 1) readers read
  std::uint8_t pad[kCacheLinePairSize - 16];
};
static_assert(sizeof(ListLine) == kCacheLinePairSize);

struct ViewHeader {
  ViewDescriptor desc;    // 0
  WriterLine writer;      // 2048
  ProgressLine progress;  // 2176
  CounterLine counters;   // 2304
  ListLine list;          // 2432
  std::uint8_t reserved[kViewHeaderSize - 2560];
};
static_assert(sizeof(ViewHeader) == kViewHeaderSize);
static_assert(offsetof(ViewHeader, writer) == 2048);
static_assert(offsetof(ViewHeader, list) == 2432);

// ---- Keyed and windowed slots ----
//
//   0  seq           even: stable; odd: being written (the seqlock)
//   8  meta          state(8) | key length(8) | flags(16) | hash(32), see MakeMeta
//  16  offset        log offset of the last update of this entry
//  24  window start  windowed only
//  then the key (padded to 8), then the value record (windowed: at least the directory size).
// A slot is rounded up to 32 or 64 bytes, or to a multiple of 64, so that one of at most 64
// bytes never straddles a cache line.
inline constexpr std::uint8_t kSlotEmpty = 0;
inline constexpr std::uint8_t kSlotLive = 1;
inline constexpr std::uint8_t kSlotTombstone = 2;
inline constexpr std::uint16_t kSlotFlagDirectory = 1;  // windowed: the key's window directory

constexpr std::uint64_t MakeMeta(std::uint8_t state, std::uint8_t key_len, std::uint16_t flags,
                                 std::uint32_t hash) {
  return std::uint64_t{state} | std::uint64_t{key_len} << 8 | std::uint64_t{flags} << 16 |
         std::uint64_t{hash} << 32;
}
constexpr std::uint8_t MetaState(std::uint64_t m) { return static_cast<std::uint8_t>(m); }
constexpr std::uint8_t MetaKeyLen(std::uint64_t m) { return static_cast<std::uint8_t>(m >> 8); }
constexpr std::uint16_t MetaFlags(std::uint64_t m) { return static_cast<std::uint16_t>(m >> 16); }
constexpr std::uint32_t MetaHash(std::uint64_t m) { return static_cast<std::uint32_t>(m >> 32); }

// A windowed key's directory: the window starts it holds, oldest first.
//   0  count    8  start[0]  16  start[1] ...
constexpr std::uint32_t DirectorySize(std::uint32_t windows_per_key) {
  return 8 + 8 * windows_per_key;
}

constexpr std::uint32_t Align8(std::uint64_t n) {
  return static_cast<std::uint32_t>((n + 7) & ~std::uint64_t{7});
}
constexpr std::uint32_t RoundSlot(std::uint32_t n) {
  if (n <= 32) return 32;
  if (n <= 64) return 64;
  return (n + 63) & ~63u;
}

struct SlotLayout {
  std::uint32_t window_at;  // windowed only
  std::uint32_t key_at;
  std::uint32_t value_at;
  std::uint32_t payload;  // bytes from value_at (value record, or windowed directory if larger)
  std::uint32_t size;     // the slot's size
};
constexpr SlotLayout MakeSlotLayout(ViewKind kind, std::uint32_t key_size, std::uint32_t value_size,
                                    std::uint32_t windows_per_key) {
  SlotLayout l{};
  const bool windowed = kind == ViewKind::kWindowed;
  l.window_at = 24;
  l.key_at = windowed ? 32 : 24;
  l.value_at = l.key_at + Align8(key_size);
  l.payload = value_size;
  if (windowed && DirectorySize(windows_per_key) > l.payload)
    l.payload = DirectorySize(windows_per_key);
  l.size = RoundSlot(l.value_at + l.payload);
  return l;
}

// ---- Top-K buffers ----
// Two buffers; readers read the one ListLine::active names, writers fill the other and flip.
// A buffer: a 64-byte header (seq, row count, publish time), then K rows of
//   0  offset   8  key length   16  key (padded to 8)   then the value record.
inline constexpr std::uint32_t kTopKBufferHeader = 64;
inline constexpr std::uint32_t kTopKRowHeader = 16;
constexpr std::uint32_t TopKRowSize(std::uint32_t key_size, std::uint32_t value_size) {
  return kTopKRowHeader + Align8(key_size) + value_size;
}
constexpr std::uint64_t TopKBufferSize(std::uint64_t k, std::uint32_t row_size) {
  return (kTopKBufferHeader + k * row_size + 127) & ~std::uint64_t{127};
}

// ---- List rows ----
//   0  seq   8  index (the row's position in the list)   16  offset   24  value record
inline constexpr std::uint32_t kListRowHeader = 24;
constexpr std::uint32_t ListRowSize(std::uint32_t value_size) {
  return RoundSlot(kListRowHeader + value_size);
}

// ---- Registry ----
// One per namespace, in the file "registry". Mutations happen under flock(LOCK_EX) of the file;
// readers read entries lock-free through their seqlocks.

struct RegistryHeader {
  char magic[8];                 // 0
  std::uint32_t version;         // 8
  std::uint32_t header_size;     // 12: sizeof(RegistryHeader)
  std::uint32_t max_views;       // 16
  std::uint32_t max_aliases;     // 20
  std::int64_t created_unix_ns;  // 24
  std::uint64_t checksum;        // 32: Hash64 of the bytes before it
  std::uint8_t reserved0[88];    // 40
  std::uint64_t changes;         // 128: +1 on every mutation
  std::uint8_t pad[kCacheLinePairSize - 8];
};
static_assert(sizeof(RegistryHeader) == 256);
static_assert(offsetof(RegistryHeader, changes) == 128);

enum class EntryState : std::uint32_t { kFree = 0, kLive = 1 };

// A view version, or one shard of it (a sharded version has one entry per shard, each with its
// own writer and generation). `generation` = incarnation << 32 | file generation: readers poll
// it on every read; a growth bumps the file generation, a retire or a reuse of the entry the
// incarnation.
struct ViewEntry {
  std::uint64_t seq;             // 0: seqlock over the fields from state on
  std::uint64_t generation;      // 8
  std::uint32_t state;           // 16: EntryState
  std::uint32_t kind;            // 20: ViewKind
  std::uint32_t version;         // 24
  std::uint16_t shard;           // 28
  std::uint16_t shard_count;     // 30
  std::int64_t created_unix_ns;  // 32
  char name[64];                 // 40
  std::uint8_t pad[24];
};
static_assert(sizeof(ViewEntry) == 128);

// An alias: a view name that resolves to one of its versions. `current` = epoch << 32 | version
// is what readers follow; one atomic store flips it.
struct AliasEntry {
  std::uint64_t current;         // 0
  std::uint64_t seq;             // 8: seqlock over the fields from state on
  std::uint32_t state;           // 16: EntryState
  std::uint32_t previous;        // 20: the version revert returns to (0: none)
  std::int64_t flipped_unix_ns;  // 24
  char name[64];                 // 32
  std::uint8_t pad[32];
};
static_assert(sizeof(AliasEntry) == 128);

constexpr std::uint64_t MakeAliasWord(std::uint32_t epoch, std::uint32_t version) {
  return std::uint64_t{epoch} << 32 | version;
}
constexpr std::uint32_t AliasVersion(std::uint64_t w) { return static_cast<std::uint32_t>(w); }
constexpr std::uint32_t AliasEpoch(std::uint64_t w) { return static_cast<std::uint32_t>(w >> 32); }

constexpr std::uint64_t MakeGenerationWord(std::uint32_t incarnation, std::uint32_t generation) {
  return std::uint64_t{incarnation} << 32 | generation;
}
constexpr std::uint32_t WordGeneration(std::uint64_t w) { return static_cast<std::uint32_t>(w); }
constexpr std::uint32_t WordIncarnation(std::uint64_t w) {
  return static_cast<std::uint32_t>(w >> 32);
}

struct RegistryLayout {
  RegistryHeader header;                 // 0
  ViewEntry views[kRegistryViews];       // 256
  AliasEntry aliases[kRegistryAliases];  // 33024
};
static_assert(offsetof(RegistryLayout, views) == 256);
static_assert(offsetof(RegistryLayout, aliases) == 256 + 128 * kRegistryViews);
inline constexpr std::size_t kRegistrySize = sizeof(RegistryLayout);

inline constexpr char kRegistryFileName[] = "registry";

}  // namespace kappa::serving
