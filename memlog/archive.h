// The archive of a log: its history in segment files on a filesystem, behind the ring.
//
// A log created with an archive directory keeps every committed frame: an Archiver (archiver.h)
// copies frames from the ring into segment files and only then lets the ring's space be reused,
// and readers read any offset from the archive's oldest record to the live tail through the same
// LogReader. This header holds the archive's settings, its manifest (the list of sealed
// segments, a small text file rewritten atomically) and what Log::Info reports about it.
// memlog/FORMAT.md describes the files.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memlog/format.h"
#include "memlog/status.h"

namespace kappa::memlog {

struct ArchiveSettings {
  // A segment is sealed once it holds this many frame bytes, or once it is this old.
  std::uint64_t segment_bytes = std::uint64_t{128} << 20;
  std::chrono::milliseconds segment_age = std::chrono::hours(1);  // 0: sealed by size only
  // How often written frames are flushed (fsync) and the ring's space behind them released.
  std::chrono::milliseconds flush_interval = std::chrono::milliseconds(200);
  // Retention, judged by when each segment was sealed, whole sealed segments oldest first.
  // 0: no limit.
  std::uint64_t retain_bytes = 0;
  std::chrono::milliseconds retain_age{0};
  // If not empty, no segment that this named cursor has not read past is deleted.
  std::string retain_cursor;
  // How sealed segments are stored: kNone keeps them as written (frames byte for byte); kLz4 and
  // kZstd compress each one in blocks once it is sealed (the segment being written is never
  // compressed). Level 0 is the codec's default: LZ4's fast mode (1..12: LZ4 HC at that level),
  // Zstandard's level 3 (1..19).
  Codec codec = Codec::kNone;
  int codec_level = 0;
};

// "none", "lz4", "zstd"; ParseCodec is false for anything else.
const char* CodecName(Codec codec);
bool ParseCodec(std::string_view name, Codec* codec);

inline constexpr std::uint64_t kMinSegmentBytes = 4096;
inline constexpr std::uint64_t kMaxSegmentBytes = std::uint64_t{1} << 40;

// kInvalidArgument naming the setting that is out of range.
Status ValidateArchiveSettings(const ArchiveSettings& settings);

struct SegmentInfo {
  std::uint64_t base = 0;  // first offset
  std::uint64_t end = 0;   // one past the last frame
  std::uint64_t records = 0;
  std::int64_t min_timestamp_ns = 0;  // event times of its records (0, 0 if none)
  std::int64_t max_timestamp_ns = 0;
  std::int64_t sealed_unix_ns = 0;
  Codec codec = Codec::kNone;      // how its file stores the frames
  std::uint64_t stored_bytes = 0;  // the file's size
  std::uint64_t bytes() const { return end - base; }
};

// The archive's manifest: what the log was created as (so that it can be recreated from the
// archive alone), the archive's settings, and its sealed segments, contiguous and in order.
struct Manifest {
  std::string log_name;
  std::string ring_path;  // where the log's ring was last made (absolute)
  std::string identity;   // 32 hex digits, Log::identity()
  std::int64_t created_unix_ns = 0;
  std::uint64_t capacity = 0;
  Policy policy = Policy::kBlock;
  Durability durability = Durability::kNone;
  std::uint32_t max_payload = 0;
  std::uint32_t unblock_timeout_ms = 0;
  std::uint32_t sync_interval_ms = 0;
  ArchiveSettings settings;
  std::uint64_t earliest = 0;  // oldest retained offset: the first segment's base, else `end()`
  std::vector<SegmentInfo> segments;
  std::uint64_t active_base = 0;  // where the segment being written starts

  std::uint64_t sealed_bytes() const;  // frame bytes
  std::uint64_t stored_bytes() const;  // file bytes (what retention's size limit counts)
};

inline constexpr char kManifestFile[] = "MANIFEST";
inline constexpr char kArchiveLockFile[] = "LOCK";

// "<base, 20 digits>.seg" (".segz" when compressed) and "<base, 20 digits>.idx".
std::string SegmentFileName(std::uint64_t base, Codec codec = Codec::kNone);
std::string IndexFileName(std::uint64_t base);
// The base offset a segment or index file name states, or false if `name` is not one.
bool ParseSegmentFileName(std::string_view name, std::string_view suffix, std::uint64_t* base);

std::string FormatManifest(const Manifest& manifest);
// kCorrupt with `path` and the line at fault for anything but a manifest FormatManifest wrote.
Result<Manifest> ParseManifest(std::string_view text, const std::string& path);
// The manifest of the archive in `directory`.
Result<Manifest> ReadManifest(const std::string& directory);

struct ArchiveInfo {
  std::string directory;
  std::uint64_t earliest_offset = 0;  // oldest offset the archive holds
  std::uint64_t active_base = 0;      // the segment being written starts here
  std::uint64_t written_offset = 0;   // frames written to the segment files up to here
  std::uint64_t durable_offset = 0;   // flushed up to here; the ring keeps everything after it
  std::uint64_t segments = 0;         // sealed
  std::uint64_t sealed_bytes = 0;     // their frames
  std::uint64_t stored_bytes = 0;     // their files
  Codec codec = Codec::kNone;         // how segments are stored once sealed
  std::int64_t oldest_sealed_unix_ns = 0;
  std::int64_t heartbeat_unix_ns = 0;
  std::uint32_t archiver_pid = 0;
  bool archiver_running = false;
  int error = 0;  // errno of the archiver's last failure
};

}  // namespace kappa::memlog
