// The same inputs and seed give the same bytes out; another seed gives different bytes.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "mlsys/cli/command.h"

namespace mlsys {
namespace {

std::string run(std::vector<std::string> args) {
  args.insert(args.begin(), "mlsys");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  const int rc = cli::run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
  EXPECT_EQ(rc, 0) << err.str();
  return out.str();
}

const std::vector<std::string> kRandomTraffic = {"net", "sim", "--topology", "fattree:k=4", "--pattern", "random",
                                                 "--flows", "200", "--size", "256KiB..4MiB", "--window", "50us"};

std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(Determinism, SameSeedGivesIdenticalBytes) {
  for (const char* format : {"--json", "--quiet"}) {
    const std::string a = run(with(kRandomTraffic, {"--seed", "7", format}));
    const std::string b = run(with(kRandomTraffic, {"--seed", "7", format}));
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b) << format;
  }
}

TEST(Determinism, AnotherSeedGivesDifferentBytes) {
  const std::string a = run(with(kRandomTraffic, {"--seed", "7", "--json"}));
  const std::string b = run(with(kRandomTraffic, {"--seed", "8", "--json"}));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace mlsys
