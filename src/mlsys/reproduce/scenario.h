// The reproduce registry: one scenario per paper (or per foundation check), each running the
// domain code and comparing its figures with the published (or closed-form) ones.
//
//   for (const Scenario& s : all_scenarios()) {
//     MLSYS_ASSIGN_OR_RETURN(ScenarioReport r, s.run(options));
//     bool ok = r.passed();
//   }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsys/core/result.h"

namespace mlsys::reproduce {

/// One figure: ours beside the reference, with the envelope that decides pass/fail.
struct CheckLine {
  std::string metric;     // "ring allreduce 1MiB on 8 NPUs"
  std::string unit;       // "s", "events/s", "x"
  double reference = 0;   // the paper's (or closed form's) figure
  double ours = 0;
  std::string envelope;   // how they are compared, in words: "within 1%", ">= reference"
  bool pass = false;
  std::string source;     // where the reference comes from
};

/// Builds a CheckLine that passes when |ours - reference| <= rel_tol * |reference|.
CheckLine within(std::string metric, std::string unit, double reference, double ours, double rel_tol,
                 std::string source);
/// Builds a CheckLine that passes when ours >= reference (a floor, e.g. a throughput target).
CheckLine at_least(std::string metric, std::string unit, double reference, double ours, std::string source);

struct ScenarioReport {
  std::string scenario;
  std::string title;
  std::vector<CheckLine> checks;
  std::vector<std::string> notes;  // context a reader needs to judge the figures
  bool passed() const;
};

struct ScenarioOptions {
  uint64_t seed = 0;
  bool quick = false;  // smaller sizes, for tests
};

struct Scenario {
  std::string name;     // "engine", "swing", ...
  std::string summary;  // one line
  Result<ScenarioReport> (*run)(const ScenarioOptions& options) = nullptr;
};

/// Every scenario, in the order `mlsys reproduce all` runs them.
const std::vector<Scenario>& all_scenarios();

}  // namespace mlsys::reproduce
