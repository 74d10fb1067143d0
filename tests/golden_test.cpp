// Golden end-to-end cases: each tests/golden/<case>/case.yaml gives the command's arguments, the
// expected exit code, and expectations on its structured output:
//
//   args: [topo, show, --topology, "torus:8x8", --json]
//   exit: 0
//   expect:                 # dotted paths into stdout's JSON ("a.b.0.c" indexes arrays)
//     endpoints: 64
//   tolerance:              # relative tolerance per path (default: exact)
//     time_s: 1e-6
//   stderr: ["mlsys: error: ", "did you mean"]   # substrings stderr must contain
//
// Arguments may use @SHARED@ (../shared/data) and @CASE@ (the case folder).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "mlsys/cli/command.h"
#include "mlsys/core/json_reader.h"
#include "mlsys/core/value.h"
#include "mlsys/core/yaml_reader.h"

namespace mlsys {
namespace {

namespace fs = std::filesystem;

std::string substitute(std::string s, const fs::path& case_dir) {
  const std::pair<std::string, std::string> vars[] = {{"@SHARED@", MLSYS_SHARED_DATA},
                                                       {"@CASE@", case_dir.string()}};
  for (const auto& [from, to] : vars) {
    for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
      s.replace(pos, from.size(), to);
    }
  }
  return s;
}

// Follows a dotted path ("rows.0.algo") through objects and arrays.
const Value* lookup(const Value& root, const std::string& path) {
  const Value* v = &root;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (v->is_array()) {
      const size_t i = std::stoul(part);
      if (i >= v->items().size()) return nullptr;
      v = &v->items()[i];
    } else {
      v = v->find(part);
      if (v == nullptr) return nullptr;
    }
  }
  return v;
}

std::vector<fs::path> golden_cases() {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(MLSYS_GOLDEN_DIR)) {
    if (fs::exists(entry.path() / "case.yaml")) cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class Golden : public testing::TestWithParam<fs::path> {};

TEST_P(Golden, MatchesExpectedOutput) {
  const fs::path dir = GetParam();
  auto spec = read_yaml_file((dir / "case.yaml").string());
  ASSERT_TRUE(spec) << spec.error().to_string();

  std::vector<std::string> args = {"mlsys"};
  auto arg_list = spec->get("args");
  ASSERT_TRUE(arg_list) << arg_list.error().to_string();
  for (const Value& a : (*arg_list)->items()) args.push_back(substitute(*a.as_string(), dir));
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());

  std::ostringstream out;
  std::ostringstream err;
  const int rc = cli::run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
  const int want_rc = spec->contains("exit") ? *spec->get_int("exit") : 0;
  ASSERT_EQ(rc, want_rc) << "stderr: " << err.str();

  if (const Value* want_err = spec->find("stderr")) {
    for (const Value& s : want_err->items()) {
      EXPECT_NE(err.str().find(*s.as_string()), std::string::npos)
          << "stderr lacks '" << *s.as_string() << "': " << err.str();
    }
    // Bad input is reported in one line.
    if (rc == 2) {
      const std::string text = err.str();
      EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    }
  }
  const Value* expect = spec->find("expect");
  if (expect == nullptr) return;
  auto doc = parse_json(out.str(), "stdout");
  ASSERT_TRUE(doc) << doc.error().to_string() << "\n" << out.str();
  const Value* tolerance = spec->find("tolerance");
  for (const Member& m : expect->members()) {
    const Value* got = lookup(*doc, m.key);
    ASSERT_NE(got, nullptr) << "missing " << m.key << " in " << out.str();
    if (m.value.is_number()) {
      ASSERT_TRUE(got->is_number()) << m.key;
      const double want = *m.value.as_number();
      double rel = 0.0;
      if (tolerance != nullptr && tolerance->contains(m.key)) rel = *tolerance->get_number(m.key);
      EXPECT_LE(std::fabs(*got->as_number() - want), rel * std::fabs(want) + 1e-12)
          << m.key << ": got " << *got->as_number() << ", want " << want;
    } else {
      EXPECT_TRUE(*got == m.value) << m.key;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, testing::ValuesIn(golden_cases()),
                         [](const testing::TestParamInfo<fs::path>& info) {
                           std::string name = info.param.filename().string();
                           std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return name;
                         });

}  // namespace
}  // namespace mlsys
