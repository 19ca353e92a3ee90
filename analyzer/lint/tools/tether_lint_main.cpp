// tether-lint: `tether lint` as a standalone program (same options, same
// code: it compiles cli/lint_command.cpp), for building and testing the
// checker without the rest of the CLI.
#include <fmt/format.h>

#include <exception>
#include <string>
#include <vector>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tether-lint: the tether static checker", "tether-lint"};
  tether::cli::CommandResult result;
  tether::cli::add_lint_command(app, result);
  // Accept both `tether-lint lint ARGS` and `tether-lint ARGS`.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) args.emplace_back(argv[i]);
  if (args.empty() || args.back() != "lint") args.emplace_back("lint");
  app.require_subcommand(1);
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "tether-lint: error: {}\n", e.what());
    return 2;
  }
  return result.exit_code;
}
