// Writes the fixture views (tests/serving/fixture_views.h) for the Python reader test.
//   serving_python_fixture NAMESPACE_DIR create|second-version|flip VERSION|revert
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/serving/fixture_views.h"

int main(int argc, char** argv) {
  using namespace kappa::serving;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s NAMESPACE_DIR create|second-version|flip VERSION|revert\n",
                 argv[0]);
    return 2;
  }
  auto ns = Namespace::Open(argv[1]);
  if (!ns.ok()) {
    std::fprintf(stderr, "%s\n", ns.status().message().c_str());
    return 1;
  }
  std::string error;
  const std::string what = argv[2];
  bool ok = false;
  if (what == "create") {
    ok = testing::WriteFixtureViews(**ns, &error);
  } else if (what == "second-version") {
    ok = testing::AddSecondVersion(**ns, &error);
  } else if (what == "flip" && argc == 4) {
    const Status s = (*ns)->Flip("counts", static_cast<std::uint32_t>(std::atoi(argv[3])));
    ok = s.ok();
    error = s.message();
  } else if (what == "progress" && argc == 4) {  // counts@1 has applied the log up to N
    auto writer = KeyedTableWriter::Open(**ns, "counts", 1);
    ok = writer.ok();
    if (ok) {
      (*writer)->SetProgress(std::strtoull(argv[3], nullptr, 10), 777);
    } else {
      error = writer.status().message();
    }
  } else if (what == "revert") {
    const Status s = (*ns)->Revert("counts");
    ok = s.ok();
    error = s.message();
  } else {
    error = "unknown action " + what;
  }
  if (!ok) std::fprintf(stderr, "%s\n", error.c_str());
  return ok ? 0 : 1;
}
