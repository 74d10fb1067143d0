// ACES (Lu et al., ASPLOS'24): the paper's Fig. 5 cache example, and the trend of its condensing
// (Fig. 10) and replacement-policy (Fig. 11) ablations in our analytical accelerator model
// (sparse/aces_model.h) on the shipped SuiteSparse/SNAP matrices (when ../shared/data is present)
// and generated R-MAT / banded matrices. The paper's matrices (1-60 MB of B) do not fit the
// snapshot, so the cache is scaled so that B is several times the cache, as in the paper.

#include <algorithm>
#include <cmath>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

#include "mlsys/reproduce/internal/scenarios.h"
#include "mlsys/sparse/aces_model.h"
#include "mlsys/sparse/generate.h"
#include "mlsys/sparse/io.h"

namespace mlsys::reproduce {
namespace {

constexpr char kPaper[] = "ACES paper (ASPLOS'24) Fig. 10/11, research notes §1.6";
constexpr char kFig5[] = "ACES paper Fig. 5, research notes §1.8";

struct Input {
  std::string name;
  sparse::Csr<double> a;
};

// A symmetric banded matrix with a few long-range couplings: a stand-in for the FEM matrices.
sparse::Csr<double> banded(int64_t n, int64_t half_band) {
  sparse::Coo<double> coo{.rows = n, .cols = n};
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = std::max<int64_t>(0, i - half_band); j <= std::min(n - 1, i + half_band); ++j) {
      coo.row.push_back(static_cast<sparse::Index>(i));
      coo.col.push_back(static_cast<sparse::Index>(j));
      coo.val.push_back(1.0);
    }
  }
  return sparse::to_csr(coo);
}

Result<std::vector<Input>> inputs(bool quick) {
  std::vector<Input> out;
  const int scale = quick ? 9 : 12;
  MLSYS_ASSIGN_OR_RETURN(const sparse::Coo<double> g, sparse::rmat({.scale = scale, .edge_factor = 8, .seed = 7}));
  out.push_back({"rmat-s" + std::to_string(scale), sparse::to_csr(g)});
  out.push_back({"banded", banded(quick ? 1024 : 8192, quick ? 6 : 10)});
  const std::filesystem::path dir = MLSYS_SHARED_MATRICES;
  std::error_code ec;
  if (!quick && std::filesystem::is_directory(dir, ec)) {
    for (const char* f : {"bcsstk13.mtx.gz", "cryg2500.mtx.gz", "p2p-Gnutella08.txt.gz", "wiki-Vote.mtx.gz",
                          "ca-CondMat_nr.mtx.gz", "mbeacxc.tsv.gz"}) {
      if (!std::filesystem::exists(dir / f, ec)) continue;
      MLSYS_ASSIGN_OR_RETURN(const sparse::MatrixFile m, sparse::read_matrix((dir / f).string()));
      std::string name = f;
      out.push_back({name.substr(0, name.find('.')), sparse::to_csr(m.entries)});
    }
  }
  return out;
}

double geomean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return v.empty() ? 0 : std::exp(s / static_cast<double>(v.size()));
}

CheckLine trend(std::string metric, double paper, double ours, double floor, std::string envelope) {
  return CheckLine{std::move(metric), "x", paper, ours, std::move(envelope), ours >= floor, kPaper};
}

}  // namespace

Result<ScenarioReport> run_aces_scenario(const ScenarioOptions& options) {
  ScenarioReport report{.scenario = "aces",
                        .title = "ACES SpGEMM accelerator: Fig. 5 PureFiber example, condensing and cache-policy ablations"};
  const std::vector<int> lines = {2, 5, 1, 6, 4};
  const std::vector<int> requests = {0, 1, 2, 4, 1, 0, 2, 3, 0};
  report.checks.push_back(within("Fig. 5: pure fibers with Belady (evict max RD), 8-line cache", "fibers", 1,
                                 static_cast<double>(sparse::pure_fibers(lines, requests, 8, sparse::CachePolicy::kRd)),
                                 0.0, kFig5));
  report.checks.push_back(within("Fig. 5: pure fibers with PureFiber (evict max RD+FD)", "fibers", 3,
                                 static_cast<double>(sparse::pure_fibers(lines, requests, 8, sparse::CachePolicy::kPureFiber)),
                                 0.0, kFig5));

  MLSYS_ASSIGN_OR_RETURN(const std::vector<Input> in, inputs(options.quick));
  std::vector<double> over_none, over_aggressive, over_moderate, pf_over_lru, rd_over_lru, traffic_lru_over_pf;
  for (const Input& m : in) {
    // Cache scaled so B is 8x the cache (the paper's B fibers are 1-60 MB against 1 MB), 1 MB at most.
    const int64_t b_bytes = sparse::csr_bytes(m.a).count();
    const Bytes cache = B(std::clamp<int64_t>(b_bytes / 8 / 1024 * 1024, 16 * 1024, 1 << 20));
    auto run = [&](std::optional<sparse::Condensing> d, sparse::CachePolicy p) {
      return sparse::model_aces(m.a, m.a, {.cache = cache, .policy = p, .degree = d});
    };
    MLSYS_ASSIGN_OR_RETURN(const sparse::AcesModelResult ad_pf, run(std::nullopt, sparse::CachePolicy::kPureFiber));
    MLSYS_ASSIGN_OR_RETURN(const sparse::AcesModelResult ad_lru, run(std::nullopt, sparse::CachePolicy::kLru));
    MLSYS_ASSIGN_OR_RETURN(const sparse::AcesModelResult ad_rd, run(std::nullopt, sparse::CachePolicy::kRd));
    MLSYS_ASSIGN_OR_RETURN(const sparse::AcesModelResult no_pf, run(sparse::Condensing::kNone, sparse::CachePolicy::kPureFiber));
    MLSYS_ASSIGN_OR_RETURN(const sparse::AcesModelResult ag_pf, run(sparse::Condensing::kAggressive, sparse::CachePolicy::kPureFiber));
    MLSYS_ASSIGN_OR_RETURN(const sparse::AcesModelResult mo_pf, run(sparse::Condensing::kModerate, sparse::CachePolicy::kPureFiber));
    const auto c = [](const sparse::AcesModelResult& r) { return static_cast<double>(std::max<int64_t>(r.cycles, 1)); };
    over_none.push_back(c(no_pf) / c(ad_pf));
    over_aggressive.push_back(c(ag_pf) / c(ad_pf));
    over_moderate.push_back(c(mo_pf) / c(ad_pf));
    pf_over_lru.push_back(c(ad_lru) / c(ad_pf));
    rd_over_lru.push_back(c(ad_lru) / c(ad_rd));
    traffic_lru_over_pf.push_back(static_cast<double>(ad_lru.dram.count()) / static_cast<double>(ad_pf.dram.count()));
    report.notes.push_back(m.name + " (n " + std::to_string(m.a.rows) + ", nnz " + std::to_string(m.a.nnz()) +
                           ", cache " + format_bytes(cache) + "): cycles adaptive-PF " + std::to_string(ad_pf.cycles) +
                           ", none " + std::to_string(no_pf.cycles) + ", moderate " + std::to_string(mo_pf.cycles) +
                           ", aggressive " + std::to_string(ag_pf.cycles) + ", adaptive-LRU " +
                           std::to_string(ad_lru.cycles) + ", adaptive-RD " + std::to_string(ad_rd.cycles) +
                           "; DRAM PF " + format_bytes(ad_pf.dram) + " vs LRU " + format_bytes(ad_lru.dram) +
                           "; pure tasks PF " + std::to_string(ad_pf.pure_tasks) + " vs LRU " +
                           std::to_string(ad_lru.pure_tasks) + " of " + std::to_string(ad_pf.tasks) +
                           "; adaptive rows none/moderate/aggressive " + std::to_string(ad_pf.degree_rows[0]) + "/" +
                           std::to_string(ad_pf.degree_rows[1]) + "/" + std::to_string(ad_pf.degree_rows[2]));
  }
  // Our model does not reproduce the size of the paper's gains (see README "validated"): the
  // envelopes only require that adaptive condensing and the reuse-aware policies cost at most 5%.
  const char* kParity = "ours >= 0.95 (paper's gain not reproduced)";
  report.checks.push_back(trend("adaptive over none condensing (PureFiber), geomean", 1.274, geomean(over_none), 0.95, kParity));
  report.checks.push_back(trend("adaptive over aggressive condensing (PureFiber), geomean", 1.126,
                                geomean(over_aggressive), 0.95, kParity));
  report.checks.push_back(trend("adaptive over moderate condensing (PureFiber), geomean", 1.074, geomean(over_moderate),
                                0.95, kParity));
  report.checks.push_back(trend("PureFiber over LRU (adaptive), geomean", 1.159, geomean(pf_over_lru), 0.95, kParity));
  report.checks.push_back(trend("RD over LRU (adaptive), geomean", 1.148, geomean(rd_over_lru), 0.95, kParity));
  report.notes.push_back("DRAM traffic LRU / PureFiber (adaptive), geomean: " + std::to_string(geomean(traffic_lru_over_pf)));
  report.notes.push_back(
      "model: 16 PEs in waves (multiply = fiber length + 100-cycle stall and bandwidth share on missed lines; merge = "
      "streaming the fiber into the cached partial row, serialised per C row within a wave), 16-way cache of B fibers with 64 B lines, 128 GB/s at 1 GHz; "
      "C partial fibers are assumed to stay on chip (their spills are not modelled)");
  return report;
}

}  // namespace mlsys::reproduce
