// preload_env: where `tether run` finds libtether_preload.so and the
// LD_PRELOAD it gives a program (sanitizer runtimes first).
#include "preload_env.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;
using tether::preload::find_library;
using tether::preload::ld_preload_value;
using tether::preload::sanitizer_runtimes;

std::string self_exe() {
  return fs::read_symlink("/proc/self/exe").string();
}

TEST(PreloadEnv, SanitizerRuntimesOfThisTest) {
  const auto found = sanitizer_runtimes(self_exe());
#if defined(__SANITIZE_ADDRESS__)
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rfind("libasan.so", 0), 0u) << found[0];
#elif defined(__SANITIZE_THREAD__)
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rfind("libtsan.so", 0), 0u) << found[0];
#else
  EXPECT_TRUE(found.empty());
#endif
}

TEST(PreloadEnv, NotElfOrMissingHasNoSanitizers) {
  EXPECT_TRUE(sanitizer_runtimes("/nonexistent/program").empty());
  const fs::path script =
      fs::temp_directory_path() / ("tether-preload-" + std::to_string(getpid()));
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  EXPECT_TRUE(sanitizer_runtimes(script.string()).empty());
  fs::remove(script);
}

TEST(PreloadEnv, LibraryFirstThenInherited) {
  const std::string prefix =
      sanitizer_runtimes(self_exe()).empty() ? "" : sanitizer_runtimes(self_exe())[0] + ":";
  EXPECT_EQ(ld_preload_value("/x/libtether_preload.so", self_exe(), ""),
            prefix + "/x/libtether_preload.so");
  // Inherited entries follow (':' or ' ' separated), without duplicates or a
  // second copy of the library.
  EXPECT_EQ(ld_preload_value("/x/libtether_preload.so", self_exe(),
                             "libfoo.so /y/libtether_preload.so:libbar.so::libfoo.so"),
            prefix + "/x/libtether_preload.so:libfoo.so:libbar.so");
}

TEST(PreloadEnv, FindsTheLibraryNextToTheCommandOrInLib) {
  const fs::path root =
      fs::temp_directory_path() / ("tether-preload-find-" + std::to_string(getpid()));
  fs::create_directories(root / "bin");
  EXPECT_EQ(find_library((root / "bin").string(), "lib"), "");
  fs::create_directories(root / "lib" / "x86_64-linux-gnu");
  std::ofstream(root / "lib" / "x86_64-linux-gnu" / "libtether_preload.so") << "";
  EXPECT_EQ(find_library((root / "bin").string(), "lib/x86_64-linux-gnu"),
            fs::canonical(root / "lib" / "x86_64-linux-gnu" / "libtether_preload.so").string());
  std::ofstream(root / "bin" / "libtether_preload.so") << "";
  EXPECT_EQ(find_library((root / "bin").string(), "lib/x86_64-linux-gnu"),
            fs::canonical(root / "bin" / "libtether_preload.so").string());
  fs::remove_all(root);
}

}  // namespace
