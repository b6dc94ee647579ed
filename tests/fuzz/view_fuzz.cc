// libFuzzer target: a view file image (header and slots) through open, validation and every
// read of the header-only reader.
//
// Byte 0 picks the view kind (bits 0-1) and the mode: raw (bit 7: the rest of the input is the
// whole file) or patched (a valid image of that kind, written by the real writer, with the rest
// of the input laid over it from an offset given by bytes 1-2; bit 6 recomputes the header
// checksum afterwards, so that the checks behind it are reached).
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "serving/detail/view_shape.h"
#include "serving/view_reader.h"
#include "serving/view_writer.h"

using namespace kappa::serving;  // NOLINT: a fuzz driver, not a header

namespace {

struct Setup {
  std::string dir;
  std::unique_ptr<Namespace> ns;
  std::string images[4];  // keyed, windowed, top-K, list
  const char* names[4] = {"k", "w", "t", "l"};
};

std::string ReadFile(const std::string& path) {
  std::string s;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return s;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  s.resize(static_cast<std::size_t>(size));
  if (::pread(fd, s.data(), s.size(), 0) != size) s.clear();
  ::close(fd);
  return s;
}

Setup* g_setup = nullptr;

// Removes the fuzzer's namespace when libFuzzer exits.
void Cleanup() {
  if (!g_setup) return;
  for (const char* f : {"k@1.0.view", "w@1.0.view", "t@1.0.view", "l@1.0.view", "registry"})
    ::unlink((g_setup->dir + "/" + f).c_str());
  ::rmdir(g_setup->dir.c_str());
}

Setup* MakeSetup() {
  auto* s = new Setup();
  g_setup = s;
  std::atexit(Cleanup);
  s->dir = "/dev/shm/kappa-fuzz-views-" + std::to_string(::getpid());
  auto ns = Namespace::Open(s->dir);
  if (!ns.ok()) std::abort();
  s->ns = std::move(ns).value();
  auto schema =
      std::move(Schema::Make({Field::I64("a"), Field::String("s", 9), Field::F64("f")})).value();
  std::vector<std::byte> value(schema.value_size());
  {
    KeyedTableOptions o;
    o.schema = schema;
    auto w = std::move(KeyedTableWriter::Create(*s->ns, "k", 1, o)).value();
    for (std::uint64_t k = 0; k < 5; ++k)
      if (w->Upsert(k, value, k) != WriteResult::kOk) std::abort();
  }
  {
    WindowedTableOptions o;
    o.schema = schema;
    o.window_size_ns = 10;
    o.windows_per_key = 3;
    o.expected_entries = 8;
    auto w = std::move(WindowedTableWriter::Create(*s->ns, "w", 1, o)).value();
    for (std::int64_t start = 0; start < 50; start += 10)
      if (w->Upsert(std::uint64_t{1}, start, value, 1) != WriteResult::kOk) std::abort();
  }
  {
    TopKOptions o;
    o.schema = schema;
    o.k = 4;
    o.order_field = "f";
    auto w = std::move(TopKWriter::Create(*s->ns, "t", 1, o)).value();
    for (std::uint64_t k = 0; k < 6; ++k)
      if (w->Offer(k, value, k) != WriteResult::kOk) std::abort();
    w->Publish();
  }
  {
    ResultListOptions o;
    o.schema = schema;
    o.capacity = 4;
    auto w = std::move(ResultListWriter::Create(*s->ns, "l", 1, o)).value();
    for (int i = 0; i < 6; ++i)
      if (w->Append(value, 1) != WriteResult::kOk) std::abort();
  }
  for (int i = 0; i < 4; ++i) s->images[i] = ReadFile(s->dir + "/" + s->names[i] + "@1.0.view");
  return s;
}

void Exercise(const Setup& s, int kind) {
  ReaderOptions o;
  o.stale_after_ns = 1'000'000;
  auto r = ViewReader::Open(s.dir, s.names[kind], o);
  if (!r.ok()) return;
  ViewReader& v = **r;
  (void)v.Info();
  std::vector<std::byte> value(v.value_size() + 1024);
  std::uint64_t offset = 0;
  auto row = [](const RowView& rv) {
    volatile std::size_t n = rv.value.size() + rv.key_bytes.size();
    (void)n;
    return true;
  };
  for (std::uint64_t k = 0; k < 3; ++k) {
    (void)v.Get(k, value, &offset);
    (void)v.GetWindow(k, 10, value, &offset);
    (void)v.GetWindows(k, row);
  }
  (void)v.Get("key", value, &offset);
  (void)v.Scan(row);
  (void)v.TopK(row);
  std::uint64_t next = 0;
  (void)v.ListRows(0, 100, row, &next);
  (void)v.ListCount();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Setup* setup = MakeSetup();
  if (size < 3) return 0;
  const int kind = data[0] & 3;
  std::string image;
  if (data[0] & 0x80) {
    image.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    image = setup->images[kind];
    const std::size_t at = (static_cast<std::size_t>(data[1]) << 8 | data[2]) % image.size();
    const std::size_t n = std::min(size - 3, image.size() - at);
    std::memcpy(image.data() + at, data + 3, n);
    if (data[0] & 0x40) {
      ViewDescriptor d;
      std::memcpy(&d, image.data(), sizeof d);
      d.checksum = detail::DescriptorChecksum(d);
      std::memcpy(image.data(), &d, sizeof d);
    }
  }
  const std::string path = setup->dir + "/" + setup->names[kind] + "@1.0.view";
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  const bool written =
      ::write(fd, image.data(), image.size()) == static_cast<ssize_t>(image.size());
  ::close(fd);
  if (written) Exercise(*setup, kind);
  return 0;
}
