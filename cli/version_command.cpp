// `tether version`: the release (the CMake project version), the git
// revision the binary was configured from, and how it was built — what a bug
// report needs.
#include <fmt/format.h>

#include "commands.h"
#include "exit_codes.h"
#include "tether_cli_version.h"

namespace tether::cli {

void add_version_command(CLI::App& app, CommandResult& result) {
  CLI::App* cmd = app.add_subcommand("version", "Print tether's version and build details");
  cmd->footer(
      "Line 1: 'tether VERSION', then the git revision the build was configured\n"
      "from when known. Line 2: build type, compiler and sanitizer.\n"
      "Exit status: 0.");
  cmd->callback([&result] {
    std::string line = fmt::format("tether {}", kVersion);
    if (kGitDescribe[0] != '\0') line += fmt::format(" (git {})", kGitDescribe);
    fmt::print("{}\n", line);
    fmt::print("build: {}, {}{}{}\n", kBuildType[0] ? kBuildType : "default", kCompiler,
               kSanitize[0] ? ", sanitize=" : "", kSanitize);
    result.exit_code = kExitClean;
  });
}

}  // namespace tether::cli
