// Swing (De Sensi et al., NSDI'24): hop-weighted traffic of the bandwidth-optimal reduce-scatter,
// Swing against the classic allreduce algorithms on 2-D tori in the flow-level model, and
// ASTRA-sim's 8-NPU ring reference run beside our ring.

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/cost_model.h"
#include "mlsys/coll/flow_executor.h"
#include "mlsys/coll/schedule_metrics.h"
#include "mlsys/hw/topology_builders.h"
#include "mlsys/reproduce/internal/scenarios.h"

namespace mlsys::reproduce {
namespace {

constexpr char kDerived[] = "research notes §1.4 (derived from the Swing paper's peer and block rules)";
constexpr char kPaper[] = "Swing paper (NSDI'24) §1.5 of the research notes";
constexpr char kAstra[] = "ASTRA-sim tests/rt_template (shared/data/astra-sim-inputs), 1 cycle = 1 ns";

const std::vector<std::string> kClassic = {"ring", "recdoub", "rabenseifner"};
const std::vector<std::string> kAll = {"ring", "recdoub", "rabenseifner", "bucket", "swing-lat", "swing-bw"};

// A check that passes when ours <= reference (a ceiling).
CheckLine at_most(std::string metric, std::string unit, double reference, double ours, std::string envelope,
                  std::string source) {
  return CheckLine{std::move(metric), std::move(unit), reference, ours, std::move(envelope), ours <= reference,
                   std::move(source)};
}

std::string dims_text(const std::vector<int>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

Result<double> hop_weighted(const std::string& algo, std::vector<int> dims) {
  int p = 1;
  for (int d : dims) p *= d;
  MLSYS_ASSIGN_OR_RETURN(auto a, coll::make_algorithm(algo, {.collective = coll::Collective::kReduceScatter,
                                                             .ranks = p, .torus = std::move(dims)}));
  return coll::hop_weighted_traffic(*a, 0);
}

// Allreduce times (flow model) of every algorithm at every size on one torus, plus bucket's
// bandwidth term from the analytic model.
struct TorusRun {
  std::vector<int> dims;
  std::vector<Bytes> sizes;
  std::map<std::string, std::vector<Time>> time;
  std::map<std::string, int> steps;
  std::vector<Time> bucket_bandwidth_term;
};

Result<TorusRun> run_torus(std::vector<int> dims, const std::vector<Bytes>& sizes) {
  TorusRun run{.dims = dims, .sizes = sizes};
  int p = 1;
  for (int d : dims) p *= d;
  MLSYS_ASSIGN_OR_RETURN(hw::Topology topo, hw::build_torus(dims, {.bandwidth = Gbps(400), .latency = us(1)}));
  for (const std::string& name : kAll) {
    MLSYS_ASSIGN_OR_RETURN(auto algo, coll::make_algorithm(name, {.collective = coll::Collective::kAllreduce,
                                                                  .ranks = p, .torus = dims}));
    MLSYS_ASSIGN_OR_RETURN(coll::FlowModel model, coll::FlowModel::build(*algo, topo));
    for (Bytes n : sizes) {
      MLSYS_ASSIGN_OR_RETURN(coll::CollectiveTiming t, model.time(n, 4));
      run.time[name].push_back(t.time);
      run.steps[name] = t.steps;
    }
    if (name == "bucket") {
      MLSYS_ASSIGN_OR_RETURN(coll::StepPatterns patterns, coll::StepPatterns::compile(*algo));
      MLSYS_ASSIGN_OR_RETURN(coll::AnalyticModel analytic, coll::AnalyticModel::build(patterns, topo));
      for (Bytes n : sizes) run.bucket_bandwidth_term.push_back(analytic.time(n).bandwidth_term);
    }
  }
  return run;
}

size_t index_of(const TorusRun& run, Bytes n) {
  return static_cast<size_t>(std::find(run.sizes.begin(), run.sizes.end(), n) - run.sizes.begin());
}

Time fastest(const TorusRun& run, const std::vector<std::string>& names, size_t i) {
  Time best = Time::max();
  for (const std::string& n : names) best = std::min(best, run.time.at(n)[i]);
  return best;
}

void add_torus_checks(const TorusRun& run, ScenarioReport& report) {
  const std::string t = dims_text(run.dims) + " torus";
  const size_t small = index_of(run, B(32));
  const size_t medium = index_of(run, MiB(1));
  const size_t large = run.sizes.size() - 1;
  const auto speedup = [&](const std::vector<std::string>& swing, size_t i) {
    return fastest(run, kClassic, i) / fastest(run, swing, i);
  };
  report.checks.push_back(at_least(t + ", " + format_bytes(run.sizes[small]) +
                                       ": Swing (faster of swing-lat, swing-bw) speedup over the fastest of "
                                       "ring, recdoub, rabenseifner",
                                   "x", 1.0, speedup({"swing-lat", "swing-bw"}, small), kPaper));
  report.checks.push_back(at_least(t + ", " + format_bytes(run.sizes[medium]) +
                                       ": swing-bw speedup over the fastest of ring, recdoub, rabenseifner",
                                   "x", 1.0, speedup({"swing-bw"}, medium), kPaper));
  double best = 0;
  Bytes best_at = run.sizes.front();
  for (size_t i = 0; i < run.sizes.size(); ++i) {
    const double s = speedup({"swing-lat", "swing-bw"}, i);
    if (s > best) {
      best = s;
      best_at = run.sizes[i];
    }
  }
  CheckLine peak = at_most(t + ": largest Swing speedup over the classic three, 32B..128MiB (at " +
                               format_bytes(best_at) + ")",
                           "x", 3.0, best, "1 < ours <= reference (paper: up to 3x over all its tori)", kPaper);
  peak.pass = peak.pass && best > 1.0;
  report.checks.push_back(peak);
  report.checks.push_back(at_most(t + ", " + format_bytes(run.sizes[large]) +
                                      ": swing-bw time / bucket's bandwidth term",
                                  "x", 1.2, run.time.at("swing-bw")[large] / run.bucket_bandwidth_term[large],
                                  "<= reference (paper: within about 1.2x)", kPaper));
  int p = 1;
  for (int d : run.dims) p *= d;
  report.checks.push_back(within(t + ": swing-bw steps = 2 log2(p)", "steps", 2 * std::log2(p),
                                 run.steps.at("swing-bw"), 0.0, kPaper));
  // Where Swing-B alone is not the fastest Swing: below the cross-over, swing-lat's log2(p)
  // steps beat swing-bw's 2 log2(p).
  size_t cross = 0;
  while (cross < run.sizes.size() && run.time.at("swing-bw")[cross] > fastest(run, kClassic, cross)) ++cross;
  report.notes.push_back(t + ": swing-bw beats the classic three from " +
                         (cross < run.sizes.size() ? format_bytes(run.sizes[cross]) : std::string("no size")) +
                         " up; below that recursive doubling's log2(p) steps win over its 2 log2(p), and "
                         "swing-lat (log2(p) shorter hops) is the faster Swing");
  report.notes.push_back(t + ", " + format_bytes(run.sizes[large]) + ": bucket " + format_time(run.time.at("bucket")[large]) + ", swing-bw " +
                         format_time(run.time.at("swing-bw")[large]) + " (" +
                         std::to_string(run.steps.at("bucket")) + " vs " + std::to_string(run.steps.at("swing-bw")) +
                         " steps)");
}

}  // namespace

Result<ScenarioReport> run_swing_scenario(const ScenarioOptions& options) {
  ScenarioReport report{.scenario = "swing",
                        .title = "Swing allreduce on tori: hop-weighted traffic, timing against the classic "
                                 "algorithms, ASTRA-sim reference"};

  // Hop-weighted traffic of one reduce-scatter, in units of the vector (rank 0; every rank has
  // the same by symmetry).
  struct Hop {
    const char* algo;
    std::vector<int> dims;
    double reference;
  };
  for (const Hop& h : {Hop{"swing-bw", {8}, 1.125}, Hop{"swing-bw", {8, 8}, 1.078}, Hop{"swing-bw", {64, 64}, 1.184},
                       Hop{"rabenseifner", {64, 64}, 1.477}}) {
    MLSYS_ASSIGN_OR_RETURN(double v, hop_weighted(h.algo, h.dims));
    report.checks.push_back(within(std::string(h.algo) + " reduce-scatter hop-weighted traffic, " +
                                       (h.dims.size() == 1 ? "1-D p=" + dims_text(h.dims) : dims_text(h.dims)),
                                   "x n", h.reference, v, 0.001, kDerived));
  }

  // Timing on 2-D tori: 400 Gb/s, 1 us links, one port per algorithm, f32, the paper's sizes.
  std::vector<Bytes> sizes;
  for (Bytes b = B(32); b <= MiB(128); b = b * 2) sizes.push_back(b);
  for (std::vector<int> dims : {std::vector<int>{8, 8}, options.quick ? std::vector<int>{16, 16} : std::vector<int>{64, 64}}) {
    MLSYS_ASSIGN_OR_RETURN(TorusRun run, run_torus(dims, sizes));
    add_torus_checks(run, report);
  }
  report.notes.push_back("timing: flow-level model (max-min fair sharing, dimension-order routes), 400 Gb/s and 1 us "
                         "per link, single port for every algorithm (the classic three have no multiport variant "
                         "here), f32; event-driven per-rank execution on 8x8, one barrier per step on larger tori");

  // ASTRA-sim's golden run: 8 NPUs on a ring, 50 GB/s, 500 ns per link, ring allreduce of 1 MiB.
  MLSYS_ASSIGN_OR_RETURN(hw::Topology ring8, hw::build_torus({8}, {.bandwidth = GBps(50), .latency = nsec(500)}));
  MLSYS_ASSIGN_OR_RETURN(auto ring, coll::make_algorithm("ring", {.collective = coll::Collective::kAllreduce, .ranks = 8}));
  MLSYS_ASSIGN_OR_RETURN(coll::CollectiveTiming whole, coll::flow_time(*ring, MiB(1), 4, ring8));
  MLSYS_ASSIGN_OR_RETURN(coll::CollectiveTiming chunk, coll::flow_time(*ring, KiB(256), 4, ring8));
  const double astra_ns = 117'780;
  report.checks.push_back(at_most("8-NPU ring allreduce of 1 MiB, 50 GB/s, 500 ns links (ours: 2(P-1)L + 2(P-1)/P n/B)",
                                  "ns", astra_ns, static_cast<double>(whole.time.ns()),
                                  "ours <= reference (ASTRA-sim adds chunking and per-message costs)", kAstra));
  report.checks.push_back(at_most("same, as ASTRA-sim runs it: 4 chunks of 256 KiB one after another", "ns", astra_ns,
                                  static_cast<double>((chunk.time * 4).ns()),
                                  "ours <= reference (the rest is ASTRA-sim's per-message system cost)", kAstra));
  const double per_message = (astra_ns - static_cast<double>((chunk.time * 4).ns())) / (4 * 14);
  report.notes.push_back("ASTRA-sim 117.78 us vs ours " + format_time(whole.time) + ": splitting into 4 chunks run "
                         "in sequence (preferred-dataset-splits 4, active-chunks-per-dimension 1) pays the 500 ns "
                         "latency 56 times instead of 14 (" + format_time(chunk.time * 4) + "); the remaining " +
                         std::to_string(static_cast<int>(per_message)) + " ns per 32 KiB message is ASTRA-sim's "
                         "system layer (endpoint delay, memory-bus transfers, stream scheduling), which we do not model");
  return report;
}

}  // namespace mlsys::reproduce
