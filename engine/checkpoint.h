// Checkpoints: a job's state at one point of its log, written atomically, from which a
// restarted job continues as if it had never stopped.
//
// A checkpoint holds the source position (every record before it applied, none after), the
// source's event-time state, and per partition its operator state and its views' contents.
// It is taken with the job quiesced (no batch in flight), written to "<name>.tmp", fsynced,
// renamed over "<name>" and the directory fsynced: a crash leaves the old checkpoint or the
// new one, never a mix. Reading checks the magic, version, sizes and a checksum.
//
// File: "KAPPACKP", u32 version, u32 partitions, u32 view version, u32 job name length, u64
// source offset, i64 max event time, i64 watermark, the job name, then per partition u64
// length and bytes, then a u64 checksum (operators::HashValue of everything before it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "serving/status.h"

namespace kappa::engine {

struct Checkpoint {
  std::string job;
  std::uint32_t view_version = 0;
  std::uint64_t source_offset = 0;
  std::int64_t max_time = 0;
  std::int64_t watermark = 0;
  std::vector<std::string> partitions;  // each partition's state, as it wrote it
};

// Writes `c` to `path` atomically (see above).
serving::Status WriteCheckpoint(const std::string& path, const Checkpoint& c);
// kNotFound if there is none; kCorrupt naming the problem if it is damaged.
serving::Result<Checkpoint> ReadCheckpoint(const std::string& path);

}  // namespace kappa::engine
