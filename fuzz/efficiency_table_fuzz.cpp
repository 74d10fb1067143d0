// Efficiency step tables (model/compute.h, EfficiencyTable::parse_csv): never crashes; every
// error names the file; a parsed table has finite, non-negative thresholds sorted descending,
// efficiencies in (0, 1], and every lookup answers in (0, 1].
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "mlsys/model/compute.h"

namespace {

void check_steps(const std::vector<mlsys::model::EfficiencyTable::Step>& steps) {
  FUZZ_CHECK(!steps.empty(), "a parsed table has steps of every kind");
  for (size_t i = 0; i < steps.size(); ++i) {
    FUZZ_CHECK(std::isfinite(steps[i].threshold) && steps[i].threshold >= 0, "finite non-negative threshold");
    FUZZ_CHECK(std::isfinite(steps[i].efficiency), "finite efficiency");
    FUZZ_CHECK(steps[i].efficiency > 0 && steps[i].efficiency <= 1, "efficiency in (0, 1]");
    if (i > 0) FUZZ_CHECK(steps[i - 1].threshold > steps[i].threshold, "steps sorted by descending threshold");
  }
}

bool in_unit_interval(double e) { return e > 0 && e <= 1; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const mlsys::Result<mlsys::model::EfficiencyTable> table =
      mlsys::model::EfficiencyTable::parse_csv(text, "fuzz.csv");
  if (!table) {
    FUZZ_CHECK(!table.error().message().empty(), "an error says what went wrong");
    FUZZ_CHECK(table.error().where().file == "fuzz.csv", "an error names the file");
    return 0;
  }
  check_steps(table->matrix_steps);
  check_steps(table->vector_steps);
  check_steps(table->memory_steps);
  // Sizes at, between and beyond the thresholds, including the extremes a caller could pass.
  std::vector<double> sizes = {0.0, 1e-9, 0.5, 1.0, 16.0, 1e6, 1e300,
                               std::numeric_limits<double>::infinity()};
  for (const auto* steps : {&table->matrix_steps, &table->vector_steps, &table->memory_steps}) {
    for (const auto& step : *steps) sizes.push_back(step.threshold);
  }
  for (double s : sizes) {
    FUZZ_CHECK(in_unit_interval(table->matrix(s)), "matrix lookup in (0, 1]");
    FUZZ_CHECK(in_unit_interval(table->vector(s)), "vector lookup in (0, 1]");
    FUZZ_CHECK(in_unit_interval(table->memory(s)), "memory lookup in (0, 1]");
  }
  return 0;
}
