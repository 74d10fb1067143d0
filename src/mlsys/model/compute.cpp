#include "mlsys/model/compute.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <sstream>
#include <utility>

#include "mlsys/core/csv_reader.h"
#include "mlsys/core/strings.h"
#include "mlsys/model/internal/embedded_data.h"

namespace mlsys::model {

namespace {

constexpr double kGiga = 1e9;
constexpr double kMega = 1e6;

double lookup(const std::vector<EfficiencyTable::Step>& steps, double size) {
  // Steps are sorted by descending threshold: the first one at or below `size` applies; below
  // the smallest threshold the smallest entry applies.
  if (steps.empty()) return 1.0;
  for (const EfficiencyTable::Step& step : steps) {
    if (size >= step.threshold) return step.efficiency;
  }
  return steps.back().efficiency;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Reads kind,threshold,efficiency rows; with `gpu` set, only rows whose gpu column equals it
/// (the file must then have a gpu column).
Result<EfficiencyTable> read_table(std::string_view text, std::string_view file, std::string_view gpu) {
  MLSYS_ASSIGN_OR_RETURN(CsvTable csv, read_csv_string(text, file));
  const auto has = [&](std::string_view column) {
    return std::find(csv.header.begin(), csv.header.end(), column) != csv.header.end();
  };
  for (std::string_view column : {"kind", "threshold", "efficiency"}) {
    if (!has(column)) {
      return invalid_input("missing column '" + std::string(column) + "'",
                           "expected a header kind,threshold,efficiency (optionally gpu first)",
                           Location{std::string(file), 1});
    }
  }
  const bool gpu_column = has("gpu");
  EfficiencyTable table;
  std::set<std::string> gpus_seen;
  for (const CsvRow& row : csv.rows) {
    if (gpu_column) {
      MLSYS_ASSIGN_OR_RETURN(std::string_view row_gpu, row.get("gpu"));
      const std::string g = lower(trim_blanks(row_gpu));
      gpus_seen.insert(g);
      if (gpu.empty() && gpus_seen.size() > 1) {
        return invalid_input("the file holds tables for several GPUs (" + *gpus_seen.begin() + ", " +
                                 *gpus_seen.rbegin() + ")",
                             "keep one GPU's rows, or drop the gpu column", row.location());
      }
      if (!gpu.empty() && g != gpu) continue;
    }
    MLSYS_ASSIGN_OR_RETURN(std::string_view kind_text, row.get("kind"));
    MLSYS_ASSIGN_OR_RETURN(double threshold, row.get_double("threshold"));
    MLSYS_ASSIGN_OR_RETURN(double efficiency, row.get_double("efficiency"));
    const std::string kind = lower(trim_blanks(kind_text));
    std::vector<EfficiencyTable::Step>* steps = nullptr;
    if (kind == "matrix") steps = &table.matrix_steps;
    if (kind == "vector") steps = &table.vector_steps;
    if (kind == "memory") steps = &table.memory_steps;
    if (steps == nullptr) {
      return invalid_input("unknown kind '" + kind + "'", "expected matrix, vector or memory", row.location());
    }
    if (threshold < 0) return invalid_input("threshold must not be negative", {}, row.location());
    if (!(efficiency > 0 && efficiency <= 1)) {
      return invalid_input("efficiency " + format_shortest(efficiency) + " is outside (0, 1]", {}, row.location());
    }
    for (const EfficiencyTable::Step& step : *steps) {
      if (step.threshold == threshold) {
        return invalid_input("duplicate " + kind + " threshold " + format_shortest(threshold), {}, row.location());
      }
    }
    steps->push_back({threshold, efficiency});
  }
  for (auto [steps, kind] : {std::pair{&table.matrix_steps, "matrix"}, std::pair{&table.vector_steps, "vector"},
                             std::pair{&table.memory_steps, "memory"}}) {
    if (steps->empty()) {
      return invalid_input(std::string("no '") + kind + "' rows" + (gpu.empty() ? "" : " for GPU '" + std::string(gpu) + "'"),
                           "every table needs matrix, vector and memory steps", Location{std::string(file), 0});
    }
    std::sort(steps->begin(), steps->end(),
              [](const EfficiencyTable::Step& a, const EfficiencyTable::Step& b) { return a.threshold > b.threshold; });
  }
  return table;
}

/// The shipped table's family for a GPU name: "A100-SXM4-80GB" -> "a100". H200 is a Hopper with
/// more HBM and uses the H100 table; unknown GPUs use "default" (Calculon's A100 numbers).
std::string family(std::string_view gpu_name) {
  const std::string g = lower(gpu_name);
  if (g == "default") return g;
  if (g.find("a100") != std::string::npos) return "a100";
  if (g.find("h100") != std::string::npos || g.find("h200") != std::string::npos) return "h100";
  return "default";
}

}  // namespace

Result<EfficiencyTable> EfficiencyTable::parse_csv(std::string_view text, std::string_view file) {
  return read_table(text, file, "");
}

Result<EfficiencyTable> EfficiencyTable::builtin(std::string_view gpu_name) {
  Result<EfficiencyTable> t = read_table(internal::embedded_efficiency_csv(), "data/model/efficiency.csv", family(gpu_name));
  if (t) t->name = family(gpu_name);
  return t;
}

double EfficiencyTable::matrix(double gflops) const { return lookup(matrix_steps, gflops); }
double EfficiencyTable::vector(double gflops) const { return lookup(vector_steps, gflops); }
double EfficiencyTable::memory(double mbytes) const { return lookup(memory_steps, mbytes); }

// ---------------------------------------------------------------------------------------------
// RooflineModel.

namespace {

// Mixed-precision Adam, per parameter, one fused pass over HBM: reads the fp32 master weight,
// the two fp32 moments and the fp32 gradient (16 bytes) and writes the master weight, both
// moments and the 16-bit working copy (14 bytes). The 16-18 bytes/param usually quoted is the
// state held, not the traffic.
constexpr double kAdamBytesPerParam = 30;

}  // namespace

RooflineModel::RooflineModel(hw::GpuSpec gpu, hw::Precision precision, EfficiencyTable efficiency)
    : gpu_(std::move(gpu)), precision_(precision), efficiency_(std::move(efficiency)) {}

namespace {

Time seconds_to_time(double s) { return from_seconds(s); }

}  // namespace

OpTime RooflineModel::time(const Op& op) const {
  const double tensor_peak = gpu_.peak(precision_).value_or(gpu_.bf16_dense).base();
  const double hbm = gpu_.hbm_bandwidth.base();

  auto memory_time = [&](double bytes) { return bytes / (hbm * efficiency_.memory(bytes / kMega)); };
  auto matrix_time = [&](double flops, double bytes) {
    if (flops <= 0) return memory_time(bytes);
    const double compute = flops / (tensor_peak * efficiency_.matrix(flops / kGiga));
    return std::max(compute, memory_time(bytes));
  };

  switch (op.kind) {
    case OpKind::kGemm:
    case OpKind::kAttention:
      // Backward: the input gradient and the weight gradient are each a GEMM of the forward's
      // size (for attention, dQ and dK/dV), so twice the FLOPs and about twice the traffic.
      return {seconds_to_time(matrix_time(op.flops, op.bytes)),
              seconds_to_time(matrix_time(2.0 * op.flops, 2.0 * op.bytes))};
    case OpKind::kNorm:
    case OpKind::kElementwise:
    case OpKind::kEmbedding:
      // Memory-bound: a few FLOPs per element never catch up with HBM at these intensities
      // (Calculon likewise charges them by bytes). Backward reads the output gradient and the
      // saved input and writes the input gradient: about twice the forward's traffic (the
      // embedding's scatter-add likewise).
      return {seconds_to_time(memory_time(op.bytes)), seconds_to_time(memory_time(2.0 * op.bytes))};
    case OpKind::kOptimizer:
      return {optimizer_step(op.params), Time::zero()};
  }
  return {};
}

Time RooflineModel::optimizer_step(double params) const {
  const double bytes = kAdamBytesPerParam * params;
  return seconds_to_time(bytes / (gpu_.hbm_bandwidth.base() * efficiency_.memory(bytes / kMega)));
}

std::string RooflineModel::describe() const {
  std::ostringstream out;
  const FlopRate peak = gpu_.peak(precision_).value_or(gpu_.bf16_dense);
  out << "roofline " << gpu_.name << " " << hw::to_string(precision_) << " (" << format_flop_rate(peak) << ", HBM "
      << format_bandwidth(gpu_.hbm_bandwidth) << "; efficiency table '" << efficiency_.name << "')";
  return out.str();
}

}  // namespace mlsys::model
