#include "engine/checkpoint.h"

#include <cstring>

#include "base/files.h"
#include "operators/hash.h"

namespace kappa::engine {

using serving::Status;
using serving::StatusCode;

namespace {

constexpr char kMagic[8] = {'K', 'A', 'P', 'P', 'A', 'C', 'K', 'P'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kFlagBeforeFlush = 1;
constexpr std::size_t kHeader = 8 + 4 * 4 + 8 + 4 * 2;

template <class T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
bool Take(std::string_view& in, T* v) {
  if (in.size() < sizeof *v) return false;
  std::memcpy(v, in.data(), sizeof *v);
  in.remove_prefix(sizeof *v);
  return true;
}

void PutState(std::string& out, const JobState& s) {
  Put(out, s.max_time);
  Put(out, s.watermark);
  for (const std::string& p : s.partitions) {
    Put(out, static_cast<std::uint64_t>(p.size()));
    out += p;
  }
}

bool TakeState(std::string_view& in, std::uint32_t partitions, JobState* s) {
  if (!Take(in, &s->max_time) || !Take(in, &s->watermark)) return false;
  for (std::uint32_t p = 0; p < partitions; ++p) {
    std::uint64_t n = 0;
    if (!Take(in, &n) || n > in.size()) return false;
    s->partitions.emplace_back(in.substr(0, n));
    in.remove_prefix(n);
  }
  return true;
}

}  // namespace

Status WriteCheckpoint(const std::string& path, const Checkpoint& c) {
  if (c.before_flush && c.before_flush->partitions.size() != c.state.partitions.size())
    return Status::Error(StatusCode::kInvalidArgument,
                         path + ": the states before and after the flush differ in partitions");
  std::string out;
  out.append(kMagic, sizeof kMagic);
  Put(out, kVersion);
  Put(out, static_cast<std::uint32_t>(c.state.partitions.size()));
  Put(out, c.view_version);
  Put(out, static_cast<std::uint32_t>(c.job.size()));
  Put(out, c.source_offset);
  Put(out, static_cast<std::uint32_t>(c.log_identity.size()));
  Put(out, c.before_flush ? kFlagBeforeFlush : std::uint32_t{0});
  out += c.job;
  out += c.log_identity;
  PutState(out, c.state);
  if (c.before_flush) PutState(out, *c.before_flush);
  Put(out, operators::HashValue(std::string_view(out)));

  // A new temporary file (never a symlink planted at its name), renamed into place, in the
  // checkpoint directory checked to be this user's alone.
  return base::WriteFileAtomically(path, out, base::DirectoryUse::kPrivate);
}

serving::Result<Checkpoint> ReadCheckpoint(const std::string& path) {
  auto read = base::ReadOwnFile(path);
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kNotFound)
      return Status::Error(StatusCode::kNotFound, path + ": no checkpoint");
    return read.status();
  }
  const std::string& data = *read;
  auto bad = [&](const std::string& what) {
    return Status::Error(StatusCode::kCorrupt, path + ": " + what);
  };
  if (data.size() < kHeader + 8) return bad("too short to be a checkpoint");
  if (std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return bad("bad magic: not a kappa checkpoint");
  std::uint64_t stored;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  if (operators::HashValue(std::string_view(data.data(), data.size() - 8)) != stored)
    return bad("checksum mismatch");
  std::string_view in(data.data() + sizeof kMagic, data.size() - sizeof kMagic - 8);
  Checkpoint c;
  std::uint32_t version = 0, partitions = 0, name = 0, identity = 0, flags = 0;
  Take(in, &version);
  if (version != kVersion)
    return bad("checkpoint version " + std::to_string(version) + " (this build reads version " +
               std::to_string(kVersion) + "; delete it to start the job over)");
  Take(in, &partitions);
  Take(in, &c.view_version);
  Take(in, &name);
  Take(in, &c.source_offset);
  Take(in, &identity);
  Take(in, &flags);
  if (partitions > 64 || name > in.size() || identity > in.size() - name ||
      (flags & ~kFlagBeforeFlush) != 0)
    return bad("sizes out of range");
  c.job.assign(in.substr(0, name));
  in.remove_prefix(name);
  c.log_identity.assign(in.substr(0, identity));
  in.remove_prefix(identity);
  if (!TakeState(in, partitions, &c.state)) return bad("its state is cut short");
  if (flags & kFlagBeforeFlush) {
    c.before_flush.emplace();
    if (!TakeState(in, partitions, &*c.before_flush))
      return bad("its state before the flush is cut short");
  }
  if (!in.empty()) return bad("trailing bytes");
  return c;
}

}  // namespace kappa::engine
