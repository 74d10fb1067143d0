#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mlsys/cli/command.h"

namespace mlsys {
namespace {

TEST(CliReference, DocsFileIsCurrent) {
  std::ifstream in(std::string(MLSYS_DOCS_DIR) + "/CLI.md");
  ASSERT_TRUE(in) << "docs/CLI.md is missing: run 'make docs'";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), cli::cli_reference_markdown()) << "docs/CLI.md is stale: run 'make docs'";
}

TEST(CliReference, EveryOptionHasADescription) {
  for (const auto& c : cli::all_commands()) {
    EXPECT_FALSE(c.summary.empty()) << c.group << " " << c.name;
    for (const auto& o : c.options) EXPECT_FALSE(o.description.empty()) << c.group << " " << c.name << " --" << o.name;
  }
}

}  // namespace
}  // namespace mlsys
