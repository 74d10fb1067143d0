// mlsys sparse spgemm / bench: C = A·B with our SpGEMM kernels and the GraphBLAS / Eigen peers on
// real matrix files and R-MAT graphs, timed in the same process.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/progress.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/sparse/generate.h"
#include "mlsys/sparse/io.h"
#include "mlsys/sparse/peers/spgemm_peers.h"
#include "mlsys/sparse/spgemm.h"

namespace mlsys::cli {
namespace {

Time elapsed_since(std::chrono::steady_clock::time_point start) {
  return nsec(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
}

// One timed contender: one of our kernels or a peer, on the same inputs.
struct Measured {
  Time best;
  sparse::Csr<double> c;     // the last product, as f64
  std::string ran;           // the kernel that ran (auto resolved) or the peer's version
  std::optional<Bytes> workspace;  // our kernels: counted; peers: not known
  sparse::SpgemmStats stats;
};

template <class T>
Result<Measured> measure_ours(const sparse::Csr<T>& a, const sparse::Csr<T>& b, const sparse::SpgemmOptions& options,
                              int repeat) {
  Measured m;
  sparse::Csr<T> c;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    MLSYS_ASSIGN_OR_RETURN(c, sparse::spgemm(a, b, options, &m.stats));
    const Time t = elapsed_since(start);
    if (r == 0 || t < m.best) m.best = t;
  }
  m.c = sparse::cast_values<double>(c);
  m.ran = std::string(sparse::to_string(m.stats.algo));
  m.workspace = m.stats.workspace;
  return m;
}

Result<Measured> measure_peer(sparse::PeerKind kind, const sparse::Csr<double>& a, const sparse::Csr<double>& b,
                              int threads, int repeat) {
  Measured m;
  MLSYS_ASSIGN_OR_RETURN(auto peer, sparse::make_peer(kind, a, b, threads));
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    MLSYS_RETURN_IF_ERROR(peer->multiply());
    const Time t = elapsed_since(start);
    if (r == 0 || t < m.best) m.best = t;
  }
  MLSYS_ASSIGN_OR_RETURN(m.c, peer->result());
  m.ran = sparse::peer_version(kind);
  return m;
}

// Same structure and values within a relative tolerance (peers may sum in another order).
struct Agreement {
  bool ok = false;
  double max_rel_diff = 0;
};
Agreement agree(const sparse::Csr<double>& c, const sparse::Csr<double>& ref, double tol) {
  Agreement g;
  if (c.rows != ref.rows || c.cols != ref.cols || c.row_ptr != ref.row_ptr || c.col != ref.col) return g;
  for (size_t e = 0; e < c.val.size(); ++e) {
    const double diff = std::abs(c.val[e] - ref.val[e]) / std::max(1.0, std::abs(ref.val[e]));
    g.max_rel_diff = std::max(g.max_rel_diff, diff);
  }
  g.ok = g.max_rel_diff <= tol;
  return g;
}

double gflops(int64_t mults, Time t) { return 2.0 * static_cast<double>(mults) / std::max(t.seconds(), 1e-9) / 1e9; }

struct Operands {
  sparse::Csr<double> a;
  sparse::Csr<double> b;
  std::string product;
};

// B defaults to A (square) or Aᵀ (rectangular), as ACES's and SPADA's methodology does.
Operands square_operands(sparse::Csr<double> a) {
  Operands o;
  if (a.rows == a.cols) {
    o.b = a;
    o.product = "A·A";
  } else {
    o.b = sparse::transpose(a);
    o.product = "A·Aᵀ";
  }
  o.a = std::move(a);
  return o;
}

const std::vector<std::string> kOurAlgos = {"auto", "aces", "hash", "spa", "heap", "inner", "outer"};

Status run_sparse_spgemm(Context& ctx) {
  const std::string a_path = ctx.options.text("a");
  const std::string b_path = ctx.options.has("b") ? ctx.options.text("b") : "";
  const std::string algo_name = ctx.options.text("algo");
  const bool is_peer = algo_name == "graphblas" || algo_name == "eigen";
  std::optional<sparse::SpgemmAlgo> algo;
  if (!is_peer) {
    auto parsed = sparse::parse_spgemm_algo(algo_name);
    if (!parsed) return parsed.error().at({"--algo"});
    algo = *parsed;
  }
  const int64_t threads = ctx.options.integer("threads");
  if (threads < 1 || threads > 256) return invalid_input("--threads must be in [1, 256]", {}, {"--threads"});
  const int64_t repeat = ctx.options.integer("repeat");
  if (repeat < 1 || repeat > 1000) return invalid_input("--repeat must be in [1, 1000]", {}, {"--repeat"});
  const bool f32 = ctx.options.text("precision") == "f32";
  if (is_peer && f32) return invalid_input("the peers run f64 only", "drop --precision f32", {"--precision"});

  MLSYS_ASSIGN_OR_RETURN(const sparse::MatrixFile fa, sparse::read_matrix(a_path));
  Operands ops = square_operands(sparse::to_csr(fa.entries));
  if (!b_path.empty()) {
    MLSYS_ASSIGN_OR_RETURN(const sparse::MatrixFile fb, sparse::read_matrix(b_path));
    ops.b = sparse::to_csr(fb.entries);
    ops.product = "A·B";
  }
  const sparse::Csr<double>& a = ops.a;
  const sparse::Csr<double>& b = ops.b;
  if (a.cols != b.rows) {
    return invalid_input("inner dimensions differ: A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                             ", B is " + std::to_string(b.rows) + " x " + std::to_string(b.cols),
                         "A·B needs cols(A) = rows(B)", Location{b_path, 0});
  }
  const int64_t mults = sparse::multiplications(a, b);
  const int64_t bound = sparse::nnz_upper_bound(a, b);
  const Bytes limit = ctx.options.bytes("max-memory");
  if (is_peer) {
    // The peers allocate on their own: refuse on C's upper bound before handing them the inputs.
    const Bytes need = sparse::csr_bytes<double>(a.rows, bound);
    if (need > limit) {
      return unsupported("product too large: C may need up to " + format_bytes(need) + " (" + std::to_string(bound) +
                             " entries), above the limit of " + format_bytes(limit),
                         "raise --max-memory", {"--max-memory"});
    }
  }
  const sparse::SpgemmOptions options{.algo = algo.value_or(sparse::SpgemmAlgo::kAuto),
                                      .threads = static_cast<int>(threads), .max_output_bytes = limit};
  Result<Measured> m = is_peer ? measure_peer(*sparse::parse_peer(algo_name), a, b, static_cast<int>(threads),
                                              static_cast<int>(repeat))
                       : f32   ? measure_ours(sparse::cast_values<float>(a), sparse::cast_values<float>(b), options,
                                              static_cast<int>(repeat))
                               : measure_ours(a, b, options, static_cast<int>(repeat));
  if (!m) return m.error().code() == ErrorCode::kUnsupported ? m.error().at({"--max-memory"}) : m.error();

  const bool check = ctx.options.flag("check");
  Agreement g;
  if (check) {
    // f32 results are checked against the f32 reference (the same roundings), f64 against f64.
    sparse::Csr<double> ref;
    if (f32) {
      MLSYS_ASSIGN_OR_RETURN(const sparse::Csr<float> r32, sparse::spgemm(sparse::cast_values<float>(a),
                                                                           sparse::cast_values<float>(b),
                                                                           {.algo = sparse::SpgemmAlgo::kReference}));
      ref = sparse::cast_values<double>(r32);
    } else {
      MLSYS_ASSIGN_OR_RETURN(ref, sparse::spgemm(a, b, {.algo = sparse::SpgemmAlgo::kReference}));
    }
    g = agree(m->c, ref, f32 ? 1e-5 : 1e-12);
  }
  const double gf = gflops(mults, m->best);
  const int64_t nnz_c = m->c.nnz();
  const double compression = nnz_c > 0 ? static_cast<double>(mults) / static_cast<double>(nnz_c) : 0.0;
  const Bytes operands = (f32 ? sparse::csr_bytes<float>(a.rows, a.nnz()) + sparse::csr_bytes<float>(b.rows, b.nnz()) +
                                    sparse::csr_bytes<float>(a.rows, nnz_c)
                              : sparse::csr_bytes(a) + sparse::csr_bytes(b) + sparse::csr_bytes(m->c));
  const std::string ran = m->ran;

  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("a", a_path).field("b", b_path.empty() ? a_path : b_path).field("product", ops.product);
    w.field("rows", a.rows).field("inner", a.cols).field("cols", b.cols);
    w.field("nnz_a", a.nnz()).field("nnz_b", b.nnz());
    w.field("algo", algo_name).field("ran", ran).field("threads", threads);
    w.field("precision", std::string(f32 ? "f32" : "f64"));
    w.field("multiplications", mults).field("nnz_c", nnz_c).field("nnz_c_upper_bound", bound);
    w.field("compression_ratio", compression).field("time_s", m->best.seconds()).field("gflops", gf);
    w.field("operand_bytes", operands.count());
    if (m->workspace) {
      w.field("workspace_bytes", m->workspace->count());
      w.field("peak_over_operands", static_cast<double>((operands + *m->workspace).count()) /
                                        static_cast<double>(std::max<int64_t>(operands.count(), 1)));
    }
    if (m->stats.algo == sparse::SpgemmAlgo::kAces && !is_peer) {
      w.key("aces").begin_object().field("bands", m->stats.bands);
      w.field("rows_none", m->stats.band_degree[0]).field("rows_moderate", m->stats.band_degree[1]);
      w.field("rows_aggressive", m->stats.band_degree[2]).end_object();
    }
    if (check) w.key("check").begin_object().field("ok", g.ok).field("max_rel_diff", g.max_rel_diff).end_object();
    w.end_object();
    ctx.out << "\n";
  } else {
    TableWriter t({"quantity", "value"});
    t.set_title("SpGEMM " + ops.product + " (" + algo_name + (ran != algo_name ? " → " + ran : "") + ", " +
                std::to_string(threads) + " thread" + (threads == 1 ? "" : "s") + ", " + (f32 ? "f32" : "f64") + ")");
    t.add_row({"A", a_path + " (" + std::to_string(a.rows) + " x " + std::to_string(a.cols) + ", " +
                        std::to_string(a.nnz()) + " nnz)"});
    if (!b_path.empty()) {
      t.add_row({"B", b_path + " (" + std::to_string(b.rows) + " x " + std::to_string(b.cols) + ", " +
                          std::to_string(b.nnz()) + " nnz)"});
    }
    t.add_row({"multiplications", std::to_string(mults)});
    t.add_row({"nnz(C)", std::to_string(nnz_c)});
    t.add_row({"compression ratio", fmt(compression)});
    t.add_row({"time (best of " + std::to_string(repeat) + ")", format_time(m->best)});
    t.add_row({"GFLOPS", fmt(gf)});
    if (m->workspace) {
      t.add_row({"memory A+B+C", format_bytes(operands)});
      t.add_row({"kernel workspace (counted)", format_bytes(*m->workspace) + " (peak " +
                                                   fmt(static_cast<double>((operands + *m->workspace).count()) /
                                                       static_cast<double>(std::max<int64_t>(operands.count(), 1))) +
                                                   " x A+B+C)"});
    }
    if (m->stats.algo == sparse::SpgemmAlgo::kAces && !is_peer) {
      t.add_row({"ACES bands", std::to_string(m->stats.bands) + " (rows none/moderate/aggressive: " +
                                   std::to_string(m->stats.band_degree[0]) + "/" +
                                   std::to_string(m->stats.band_degree[1]) + "/" +
                                   std::to_string(m->stats.band_degree[2]) + ")"});
    }
    if (check) {
      t.add_row({"check vs reference",
                 std::string(g.ok ? "ok" : "MISMATCH") + " (max rel diff " + fmt(g.max_rel_diff) + ")"});
    }
    ctx.out << t.render();
  }
  if (check && !g.ok) {
    return Error(ErrorCode::kCheckFailed, "result differs from the reference", "max rel diff " + fmt(g.max_rel_diff));
  }
  return {};
}

// ---- bench ----

struct BenchInput {
  std::string name;
  Operands ops;
};

Result<std::vector<int>> parse_rmat_scales(const std::string& text) {
  std::string s = text;
  if (s.rfind("scale=", 0) == 0) s = s.substr(6);
  std::vector<int> scales;
  if (s.empty() || s == "none") return scales;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    const size_t dash = item.find('-');
    char* end = nullptr;
    const long lo = std::strtol(item.c_str(), &end, 10);
    long hi = lo;
    if (dash != std::string::npos) hi = std::strtol(item.c_str() + dash + 1, &end, 10);
    if (item.empty() || *end != '\0' || lo < 4 || hi > 22 || lo > hi) {
      return invalid_input("bad R-MAT scale list '" + text + "'", "e.g. scale=16, 16-18 or 14,16; scales 4..22",
                           {"--rmat"});
    }
    for (long v = lo; v <= hi; ++v) scales.push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return scales;
}

Result<std::vector<BenchInput>> bench_inputs(const std::string& dir, const std::vector<int>& scales, uint64_t seed) {
  std::vector<BenchInput> inputs;
  if (!dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return not_found("no such directory '" + dir + "'", {}, {"--matrices"});
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const std::string n = e.path().filename().string();
      for (const char* ext : {".mtx", ".mtx.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz", ".el", ".el.gz"}) {
        const std::string x = ext;
        if (n.size() > x.size() && n.compare(n.size() - x.size(), x.size(), x) == 0) {
          files.push_back(e.path());
          break;
        }
      }
    }
    std::sort(files.begin(), files.end());  // directory order is not deterministic
    for (const auto& f : files) {
      MLSYS_ASSIGN_OR_RETURN(const sparse::MatrixFile mf, sparse::read_matrix(f.string()));
      std::string name = f.filename().string();
      name = name.substr(0, name.find('.'));
      inputs.push_back({name, square_operands(sparse::to_csr(mf.entries))});
    }
  }
  for (const int s : scales) {
    MLSYS_ASSIGN_OR_RETURN(const sparse::Coo<double> g, sparse::rmat({.scale = s, .edge_factor = 16, .seed = seed + 1}));
    inputs.push_back({"rmat-s" + std::to_string(s), square_operands(sparse::to_csr(g))});
  }
  return inputs;
}

struct BenchCell {
  std::string contender;
  int threads = 1;
  std::optional<Measured> m;
  std::string skipped;  // why it did not run
  bool agrees = true;
};

double geomean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

Status run_sparse_bench(Context& ctx) {
  const int64_t threads = ctx.options.integer("threads");
  if (threads < 1 || threads > 256) return invalid_input("--threads must be in [1, 256]", {}, {"--threads"});
  const int64_t repeat = ctx.options.integer("repeat");
  if (repeat < 1 || repeat > 100) return invalid_input("--repeat must be in [1, 100]", {}, {"--repeat"});
  MLSYS_ASSIGN_OR_RETURN(const std::vector<int> scales, parse_rmat_scales(ctx.options.text("rmat")));
  const std::string dir = ctx.options.has("matrices") ? ctx.options.text("matrices") : "";
  const int64_t inner_limit = ctx.options.integer("inner-limit");
  MLSYS_ASSIGN_OR_RETURN(const std::vector<BenchInput> inputs, bench_inputs(dir, scales, ctx.global.seed));
  if (inputs.empty()) return invalid_input("nothing to run", "give --matrices DIR and/or --rmat SCALES", {"--matrices"});

  // Contenders: our kernels at N threads, GraphBLAS at 1 and N threads, Eigen at 1 thread.
  struct Spec {
    std::string name;
    int threads;
  };
  std::vector<Spec> specs;
  for (const std::string& a : kOurAlgos) specs.push_back({a, static_cast<int>(threads)});
  specs.push_back({"graphblas", 1});
  if (threads > 1) specs.push_back({"graphblas", static_cast<int>(threads)});
  if (threads > 1) specs.push_back({"auto", 1});
  specs.push_back({"eigen", 1});

  ProgressBar bar("sparse bench", static_cast<int64_t>(inputs.size() * specs.size()), ctx.global.quiet);
  std::vector<std::vector<BenchCell>> cells(inputs.size());
  for (size_t mi = 0; mi < inputs.size(); ++mi) {
    const sparse::Csr<double>& a = inputs[mi].ops.a;
    const sparse::Csr<double>& b = inputs[mi].ops.b;
    const sparse::Csr<double>* ref = nullptr;  // the first contender's product
    cells[mi].reserve(specs.size());
    for (const Spec& spec : specs) {
      BenchCell cell{.contender = spec.name, .threads = spec.threads};
      const double inner_work = static_cast<double>(a.rows) * static_cast<double>(b.nnz());
      if (spec.name == "inner" && inner_work > static_cast<double>(inner_limit)) {
        cell.skipped = "rows(A) x nnz(B) = " + fmt(inner_work) + " > --inner-limit";
      } else {
        Result<Measured> m = spec.name == "graphblas" ? measure_peer(sparse::PeerKind::kGraphBlas, a, b, spec.threads,
                                                                     static_cast<int>(repeat))
                             : spec.name == "eigen"
                                 ? measure_peer(sparse::PeerKind::kEigen, a, b, 1, static_cast<int>(repeat))
                                 : measure_ours(a, b,
                                                {.algo = *sparse::parse_spgemm_algo(spec.name), .threads = spec.threads},
                                                static_cast<int>(repeat));
        if (!m) return m.error().context(inputs[mi].name + " with " + spec.name);
        cell.m = std::move(*m);
        if (ref != nullptr) cell.agrees = agree(cell.m->c, *ref, 1e-9).ok;
      }
      cells[mi].push_back(std::move(cell));
      if (ref == nullptr && cells[mi].back().m) {
        ref = &cells[mi].back().m->c;
      } else if (cells[mi].back().m) {
        // Only the first product is kept: big R-MAT products would not fit in memory many times.
        cells[mi].back().m->c = sparse::Csr<double>{};
      }
      bar.advance();
    }
  }
  bar.finish();

  // Ratios of auto (ours) to the peers, per matrix and as geometric means.
  auto find = [&](size_t mi, const std::string& name, int t) -> const BenchCell* {
    for (const BenchCell& c : cells[mi]) {
      if (c.contender == name && c.threads == t && c.m) return &c;
    }
    return nullptr;
  };
  const int nt = static_cast<int>(threads);
  std::vector<double> vs_grb1;
  std::vector<double> vs_grbn;
  std::vector<double> vs_eigen;
  std::vector<double> mem_ratio;
  std::vector<double> ours_n;
  bool all_agree = true;
  for (size_t mi = 0; mi < inputs.size(); ++mi) {
    for (const BenchCell& c : cells[mi]) all_agree = all_agree && c.agrees;
    const BenchCell* ours = find(mi, "auto", nt);
    const BenchCell* ours1 = find(mi, "auto", 1);
    if (ours1 == nullptr) ours1 = ours;
    const BenchCell* g1 = find(mi, "graphblas", 1);
    const BenchCell* gn = find(mi, "graphblas", nt);
    const BenchCell* e = find(mi, "eigen", 1);
    vs_grb1.push_back(g1->m->best.seconds() / std::max(ours1->m->best.seconds(), 1e-9));
    vs_grbn.push_back(gn->m->best.seconds() / std::max(ours->m->best.seconds(), 1e-9));
    vs_eigen.push_back(e->m->best.seconds() / std::max(ours1->m->best.seconds(), 1e-9));
    const Bytes operands = sparse::csr_bytes(inputs[mi].ops.a) + sparse::csr_bytes(inputs[mi].ops.b) +
                           sparse::csr_bytes(cells[mi].front().m->c);
    mem_ratio.push_back(static_cast<double>((operands + *ours->m->workspace).count()) /
                        static_cast<double>(std::max<int64_t>(operands.count(), 1)));
    ours_n.push_back(gflops(sparse::multiplications(inputs[mi].ops.a, inputs[mi].ops.b), ours->m->best));
  }

  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("threads", threads).field("repeat", repeat);
    w.field("graphblas", sparse::peer_version(sparse::PeerKind::kGraphBlas));
    w.field("eigen", sparse::peer_version(sparse::PeerKind::kEigen));
    w.key("matrices").begin_array();
    for (size_t mi = 0; mi < inputs.size(); ++mi) {
      const auto& ops = inputs[mi].ops;
      const int64_t mults = sparse::multiplications(ops.a, ops.b);
      w.begin_object().field("name", inputs[mi].name).field("product", ops.product);
      w.field("rows", ops.a.rows).field("cols", ops.b.cols).field("nnz_a", ops.a.nnz()).field("multiplications", mults);
      w.field("nnz_c", cells[mi].front().m->c.nnz());
      w.field("speedup_vs_graphblas_1t", vs_grb1[mi]).field("speedup_vs_graphblas_nt", vs_grbn[mi]);
      w.field("speedup_vs_eigen_1t", vs_eigen[mi]).field("peak_over_operands", mem_ratio[mi]);
      w.key("runs").begin_array();
      for (const BenchCell& c : cells[mi]) {
        w.begin_object().field("contender", c.contender).field("threads", c.threads);
        if (c.m) {
          w.field("ran", c.m->ran).field("time_s", c.m->best.seconds()).field("gflops", gflops(mults, c.m->best));
          w.field("agrees", c.agrees);
          if (c.m->workspace) w.field("workspace_bytes", c.m->workspace->count());
        } else {
          w.field("skipped", c.skipped);
        }
        w.end_object();
      }
      w.end_array().end_object();
    }
    w.end_array();
    w.key("geomean").begin_object();
    w.field("gflops_auto_nt", geomean(ours_n)).field("speedup_vs_graphblas_1t", geomean(vs_grb1));
    w.field("speedup_vs_graphblas_nt", geomean(vs_grbn)).field("speedup_vs_eigen_1t", geomean(vs_eigen));
    w.field("max_peak_over_operands", *std::max_element(mem_ratio.begin(), mem_ratio.end()));
    w.end_object().field("all_agree", all_agree).end_object();
    ctx.out << "\n";
  } else {
    std::vector<std::string> header = {"matrix", "mults", "nnz(C)"};
    for (const BenchCell& c : cells.front()) header.push_back(c.contender + "@" + std::to_string(c.threads));
    for (const std::string& h : {std::string("auto/GrB@1"), "auto/GrB@" + std::to_string(nt), std::string("auto/Eigen@1"),
                                 std::string("peak/(A+B+C)")}) {
      header.push_back(h);
    }
    TableWriter t(header);
    t.set_title("SpGEMM GFLOPS (2 x multiplications / best of " + std::to_string(repeat) + "; ours at " +
                std::to_string(nt) + " thread" + (nt == 1 ? "" : "s") + ", ratios = peer time / our time)");
    for (size_t mi = 0; mi < inputs.size(); ++mi) {
      const auto& ops = inputs[mi].ops;
      const int64_t mults = sparse::multiplications(ops.a, ops.b);
      std::vector<std::string> row = {inputs[mi].name, std::to_string(mults),
                                      std::to_string(cells[mi].front().m->c.nnz())};
      for (const BenchCell& c : cells[mi]) {
        row.push_back(c.m ? fmt(gflops(mults, c.m->best), 3) + (c.agrees ? "" : " (DIFFERS)") : "skipped");
      }
      for (double v : {vs_grb1[mi], vs_grbn[mi], vs_eigen[mi], mem_ratio[mi]}) row.push_back(fmt(v, 3));
      t.add_row(row);
    }
    std::vector<std::string> g = {"geomean", "", ""};
    for (size_t ci = 0; ci < cells.front().size(); ++ci) {
      std::vector<double> v;
      for (size_t mi = 0; mi < inputs.size(); ++mi) {
        const BenchCell& c = cells[mi][ci];
        if (c.m) v.push_back(gflops(sparse::multiplications(inputs[mi].ops.a, inputs[mi].ops.b), c.m->best));
      }
      g.push_back(v.size() == inputs.size() ? fmt(geomean(v), 3) : "-");
    }
    for (double v : {geomean(vs_grb1), geomean(vs_grbn), geomean(vs_eigen)}) g.push_back(fmt(v, 3));
    g.push_back(fmt(*std::max_element(mem_ratio.begin(), mem_ratio.end()), 3) + " max");
    t.add_row(g);
    ctx.out << t.render();
    for (size_t mi = 0; mi < inputs.size(); ++mi) {
      for (const BenchCell& c : cells[mi]) {
        if (!c.m) ctx.out << inputs[mi].name << ": " << c.contender << " skipped: " << c.skipped << "\n";
      }
    }
    ctx.out << "peers: " << sparse::peer_version(sparse::PeerKind::kGraphBlas) << " (GrB_mxm plus-times f64, "
            << "timed with GrB_Matrix_wait), " << sparse::peer_version(sparse::PeerKind::kEigen)
            << " (conservative product); peak = A+B+C + our kernel's counted workspace\n";
  }
  if (!all_agree) return Error(ErrorCode::kCheckFailed, "some contenders' products differ", "see DIFFERS in the table");
  return {};
}

}  // namespace

std::vector<Command> sparse_commands() {
  return {
      {.group = "sparse",
       .name = "spgemm",
       .summary = "multiply sparse matrices C = A·B (A·A, or A·Aᵀ for a rectangular A) and time it",
       .description =
           "Reads Matrix Market (.mtx), SNAP edge lists (.txt) and 0-based triplets (.tsv), plain or .gz.\n"
           "Prints the best time of --repeat runs, GFLOPS = 2 x multiplications / time, the compression\n"
           "ratio multiplications / nnz(C), nnz(C) (entries that received a product, zeros included), and\n"
           "for our kernels the workspace they allocated (counted from their buffers) beside A+B+C.\n"
           "--algo auto picks per product (< 2 products per row, or B.cols dense accumulator <= 1 MiB: spa;\n"
           "otherwise aces, rows dense or hash by GraphBLAS's B.cols/12 rule; <= 1 thread per 200k products).\n"
           "graphblas and eigen run the peer libraries (f64). --check compares with the reference kernel (exit 1 on a mismatch).\n"
           "A product whose C (upper bound) plus workspace may exceed --max-memory is refused before\n"
           "allocating, with the estimate (exit 2).\n"
           "Examples:\n"
           "  mlsys sparse spgemm wiki-Vote.mtx.gz --threads 2 --check\n"
           "  mlsys sparse spgemm bcsstk13.mtx.gz --algo graphblas --threads 2 --json",
       .options = {{.name = "a", .type = OptionType::kString, .description = "matrix A: .mtx, .txt or .tsv, optionally .gz",
                    .required = true, .positional = true},
                   {.name = "b", .type = OptionType::kString, .description = "matrix B; default A (or Aᵀ when A is rectangular)"},
                   {.name = "algo", .type = OptionType::kString, .default_value = "auto",
                    .description = "SpGEMM kernel or peer library",
                    .choices = {"auto", "aces", "hash", "spa", "heap", "inner", "outer", "reference", "graphblas", "eigen"}},
                   {.name = "threads", .type = OptionType::kInt, .default_value = "1",
                    .description = "worker threads (GraphBLAS: GxB_NTHREADS); rows split by equal multiplications"},
                   {.name = "precision", .type = OptionType::kString, .default_value = "f64",
                    .description = "value type (peers: f64 only)", .choices = {"f64", "f32"}},
                   {.name = "repeat", .type = OptionType::kInt, .default_value = "3",
                    .description = "timed runs; the best is reported"},
                   {.name = "check", .type = OptionType::kFlag, .default_value = "false",
                    .description = "compare C with the reference kernel"},
                   {.name = "max-memory", .type = OptionType::kBytes, .default_value = "8GiB",
                    .description = "refuse a product whose C plus workspace may need more than this"}},
       .run = run_sparse_spgemm},
      {.group = "sparse",
       .name = "bench",
       .summary = "every SpGEMM kernel and both peers (GraphBLAS, Eigen) on the same inputs, with ratios",
       .description =
           "Runs C = A·A (A·Aᵀ when rectangular) for every matrix file in --matrices and R-MAT graphs\n"
           "(Graph500 a=0.57 b=c=0.19, edge factor 16) of the --rmat scales, with each of our kernels at\n"
           "--threads, auto also at 1 thread, GraphBLAS at 1 and --threads threads and Eigen at 1 thread,\n"
           "all in this process. Prints GFLOPS per contender, our auto kernel's speedup over GraphBLAS\n"
           "(same thread count) and Eigen (1 thread), peak memory (A+B+C plus the kernel's counted\n"
           "workspace) over A+B+C, and geometric means. Every product is compared with the first\n"
           "(exit 1 if one differs). inner is skipped where rows(A) x nnz(B) exceeds --inner-limit.\n"
           "Progress on stderr.\n"
           "Examples:\n"
           "  mlsys sparse bench --matrices ../shared/data/matrices --rmat 16-18 --threads 2\n"
           "  mlsys sparse bench --rmat scale=12 --repeat 1 --json",
       .options = {{.name = "matrices", .type = OptionType::kString,
                    .description = "directory of .mtx/.txt/.tsv(.gz) files, taken in name order"},
                   {.name = "rmat", .type = OptionType::kString, .default_value = "none",
                    .description = "R-MAT scales: scale=16, 16-18, 14,16 or none"},
                   {.name = "threads", .type = OptionType::kInt, .default_value = "2",
                    .description = "threads for our kernels and the multi-threaded GraphBLAS run"},
                   {.name = "repeat", .type = OptionType::kInt, .default_value = "3",
                    .description = "timed runs per contender; the best is reported"},
                   {.name = "inner-limit", .type = OptionType::kInt, .default_value = "300000000",
                    .description = "skip the inner product above this rows(A) x nnz(B)"}},
       .run = run_sparse_bench},
  };
}

}  // namespace mlsys::cli
