// Checkpoints: a job's state at one point of its log, written atomically, from which a
// restarted job continues as if it had never stopped.
//
// A checkpoint holds the source position (every record before it applied, none after), the
// source's event-time state, and per partition its operator state and its views' contents.
// It is taken with the job quiesced (no batch in flight), written to a new temporary file
// (O_EXCL|O_NOFOLLOW, 0600), fsynced, renamed over "<name>" and the directory fsynced: a crash
// leaves the old checkpoint or the new one, never a mix (base/files.h). The directory must be
// this user's alone; a checkpoint that is a symlink or another user's file is refused. Reading
// checks the magic, version, sizes and a checksum.
//
// A checkpoint belongs to one log, named by its identity (memlog::Log::identity(), not its path),
// and to one job version: it is refused anywhere else.
//
// The end of a bounded run (RunningJob::FlushWindows) emits every open window as if the input
// had ended. Its checkpoint keeps two states: the one after the flush, which a run over the same
// log resumes (nothing new to read, every view as the flush left it), and the one just before it,
// which a run that finds new records continues from (the windows still open, so that the new
// records join them and the results become those of one run over the whole log).
//
// File: "KAPPACKP", u32 version (2), u32 partitions, u32 view version, u32 job name length, u64
// source offset, u32 log identity length, u32 flags (bit 0: holds the state before a flush), the
// job name, the log identity, then the state: i64 max event time, i64 watermark, per partition
// u64 length and bytes; with flag bit 0 a second state (before the flush) in the same shape; then
// a u64 checksum (operators::HashValue of everything before it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "serving/status.h"

namespace kappa::engine {

// A job's state at one source position: the source's event-time state and, per partition, its
// operator state and its views' contents, as the partition wrote them.
struct JobState {
  std::int64_t max_time = 0;
  std::int64_t watermark = 0;
  std::vector<std::string> partitions;  // empty: nothing applied yet
};

struct Checkpoint {
  std::string job;
  std::string log_identity;
  std::uint32_t view_version = 0;
  std::uint64_t source_offset = 0;
  JobState state;
  std::optional<JobState> before_flush;  // set after a bounded run's end (see above)
};

// Writes `c` to `path` atomically (see above).
serving::Status WriteCheckpoint(const std::string& path, const Checkpoint& c);
// kNotFound if there is none; kCorrupt naming the problem if it is damaged.
serving::Result<Checkpoint> ReadCheckpoint(const std::string& path);

}  // namespace kappa::engine
