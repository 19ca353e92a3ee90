// trace_check FILE [--end yes|no] [--min-records N] [--object NAME]
//                  [--allow-torn] [--max-bytes N]
// Decodes a trace with the independent decoder (trace_check.h), prints a
// one-line summary, and exits 0 if the file meets the expectations, 1 if
// not, 2 on usage errors.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "trace_check.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: trace_check FILE [--end yes|no] [--min-records N] "
                 "[--object NAME] [--allow-torn] [--max-bytes N]\n");
    return 2;
  }
  const std::string path = argv[1];
  std::string end, object;
  long min_records = 0, max_bytes = -1;
  bool allow_torn = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "trace_check: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--end")
      end = value();
    else if (a == "--min-records")
      min_records = std::atol(value().c_str());
    else if (a == "--object")
      object = value();
    else if (a == "--max-bytes")
      max_bytes = std::atol(value().c_str());
    else if (a == "--allow-torn")
      allow_torn = true;
    else {
      std::fprintf(stderr, "trace_check: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const trace_check::Trace t = trace_check::decode_file(path);
  std::printf("%s: header=%s blocks=%u records=%zu valid=%llu/%llu end=%s error=%s\n", path.c_str(),
              t.header_ok ? "ok" : "bad", t.blocks, t.records.size(),
              static_cast<unsigned long long>(t.valid_bytes),
              static_cast<unsigned long long>(t.file_bytes), t.has_end() ? "yes" : "no",
              t.error.empty() ? "none" : t.error.c_str());
  int bad = 0;
  auto expect = [&](bool ok, const std::string& what) {
    if (!ok) {
      std::printf("FAIL: %s\n", what.c_str());
      ++bad;
    }
  };
  expect(t.header_ok, "a valid header");
  expect(t.error.empty() || allow_torn, "no torn or corrupt block");
  // Torn is fine only at the very end: everything before the bad block decoded.
  expect(t.file_bytes - t.valid_bytes < 16 * 1024 * 1024, "the invalid part is one block at most");
  if (!end.empty()) expect(t.has_end() == (end == "yes"), "end record: " + end);
  expect(static_cast<long>(t.records.size()) >= min_records,
         "at least " + std::to_string(min_records) + " records");
  if (max_bytes >= 0)
    expect(static_cast<long>(t.file_bytes) <= max_bytes,
           "at most " + std::to_string(max_bytes) + " bytes");
  const std::string defs = trace_check::check_definitions(t);
  expect(defs.empty(), "definitions before use: " + defs);
  if (!object.empty()) {
    bool found = false;
    for (const auto& r : t.records)
      if (r.type == 0x30 && !r.strs.empty() && r.strs[0] == object) found = true;
    expect(found, "an object_create for \"" + object + "\"");
  }
  return bad == 0 ? 0 : 1;
}
