#include "lint/compilation_db.h"

#include <gtest/gtest.h>

namespace tether::lint {
namespace {

using V = std::vector<std::string>;

TEST(CompilationDb, SplitsShellCommands) {
  EXPECT_EQ(split_command_line("c++ -DX=\"a b\" 'q r' x\\ y -c f.cpp"),
            (V{"c++", "-DX=a b", "q r", "x y", "-c", "f.cpp"}));
  EXPECT_EQ(split_command_line("  a   \"\"  b "), (V{"a", "", "b"}));
}

TEST(CompilationDb, ParsesArgumentsAndCommand) {
  auto db = CompilationDatabase::parse(R"([
    {"directory": "/src/build", "file": "../a.cpp", "arguments": ["clang++", "-c", "../a.cpp"]},
    {"directory": "/src", "file": "/src/b.cpp", "command": "g++ -Iinc -o b.o -c b.cpp"}
  ])",
                                       "db.json");
  ASSERT_EQ(db.commands().size(), 2u);
  EXPECT_EQ(db.commands()[0].file, "/src/a.cpp");
  EXPECT_EQ(db.commands()[1].argv, (V{"g++", "-Iinc", "-o", "b.o", "-c", "b.cpp"}));
  EXPECT_EQ(libclang_argv(db.commands()[1], "/rd"),
            (V{"g++", "-resource-dir", "/rd", "-working-directory", "/src", "-Iinc", "b.cpp",
               "-Wno-error", "-Wno-unknown-warning-option"}));
  EXPECT_FALSE(db.find("/src/nope.cpp").has_value());
}

TEST(CompilationDb, ErrorsNameThePlace) {
  try {
    CompilationDatabase::parse("[\n  {\"directory\": \"/x\",\n   \"file\": }\n]",
                               "b/compile_commands.json");
    FAIL();
  } catch (const DatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find("b/compile_commands.json:3:"), std::string::npos)
        << e.what();
  }
  try {
    CompilationDatabase::parse(R"([{"directory": "/x", "file": "a.cpp"}])", "db");
    FAIL();
  } catch (const DatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find("entry 0: needs \"arguments\" or \"command\""),
              std::string::npos);
  }
  EXPECT_THROW(CompilationDatabase::parse("{}", "db"), DatabaseError);
  EXPECT_THROW(CompilationDatabase::load_from_directory("/nonexistent-dir"), DatabaseError);
}

}  // namespace
}  // namespace tether::lint
