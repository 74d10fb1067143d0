// mlsys sparse spgemm: C = A·B with one of the SpGEMM kernels on real matrix files.

#include <chrono>
#include <cmath>
#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/sparse/io.h"
#include "mlsys/sparse/spgemm.h"

namespace mlsys::cli {
namespace {

struct Measured {
  Time best;
  int64_t nnz_c = 0;
  bool checked = false;
  bool check_ok = false;
  double max_rel_diff = 0.0;  // against the reference, over C's entries
};

template <class T>
Result<Measured> measure(const sparse::Csr<T>& a, const sparse::Csr<T>& b, const sparse::SpgemmOptions& options,
                         int repeat, bool check) {
  Measured m;
  sparse::Csr<T> c;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    MLSYS_ASSIGN_OR_RETURN(c, sparse::spgemm(a, b, options));
    const auto stop = std::chrono::steady_clock::now();
    const Time t = nsec(std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count());
    if (r == 0 || t < m.best) m.best = t;
  }
  m.nnz_c = c.nnz();
  if (check) {
    sparse::SpgemmOptions ref_options = options;
    ref_options.algo = sparse::SpgemmAlgo::kReference;
    MLSYS_ASSIGN_OR_RETURN(const sparse::Csr<T> ref, sparse::spgemm(a, b, ref_options));
    m.checked = true;
    m.check_ok = ref.row_ptr == c.row_ptr && ref.col == c.col;
    if (m.check_ok) {
      for (size_t e = 0; e < c.val.size(); ++e) {
        const double want = static_cast<double>(ref.val[e]);
        const double diff = std::abs(static_cast<double>(c.val[e]) - want) / std::max(1.0, std::abs(want));
        m.max_rel_diff = std::max(m.max_rel_diff, diff);
      }
      m.check_ok = m.max_rel_diff <= (sizeof(T) == 4 ? 1e-5 : 1e-12);
    }
  }
  return m;
}

Status run_sparse_spgemm(Context& ctx) {
  const std::string a_path = ctx.options.text("a");
  const std::string b_path = ctx.options.has("b") ? ctx.options.text("b") : "";
  auto algo = sparse::parse_spgemm_algo(ctx.options.text("algo"));
  if (!algo) return algo.error().at({"--algo"});
  const int64_t threads = ctx.options.integer("threads");
  if (threads < 1 || threads > 256) return invalid_input("--threads must be in [1, 256]", {}, {"--threads"});
  const int64_t repeat = ctx.options.integer("repeat");
  if (repeat < 1 || repeat > 1000) return invalid_input("--repeat must be in [1, 1000]", {}, {"--repeat"});

  MLSYS_ASSIGN_OR_RETURN(const sparse::MatrixFile fa, sparse::read_matrix(a_path));
  const sparse::Csr<double> a = sparse::to_csr(fa.entries);
  sparse::Csr<double> b;
  std::string product = "A·A";
  if (!b_path.empty()) {
    MLSYS_ASSIGN_OR_RETURN(const sparse::MatrixFile fb, sparse::read_matrix(b_path));
    b = sparse::to_csr(fb.entries);
    product = "A·B";
  } else if (a.rows == a.cols) {
    b = a;
  } else {
    b = sparse::transpose(a);
    product = "A·Aᵀ";
  }
  if (a.cols != b.rows) {
    return invalid_input("inner dimensions differ: A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                             ", B is " + std::to_string(b.rows) + " x " + std::to_string(b.cols),
                         "A·B needs cols(A) = rows(B)", Location{b_path, 0});
  }
  const int64_t mults = sparse::multiplications(a, b);
  const int64_t bound = sparse::nnz_upper_bound(a, b);
  const sparse::SpgemmOptions options{.algo = *algo, .threads = static_cast<int>(threads),
                                      .max_output_bytes = ctx.options.bytes("max-memory")};
  const bool f32 = ctx.options.text("precision") == "f32";
  const bool check = ctx.options.flag("check");
  Result<Measured> m = f32 ? measure(sparse::cast_values<float>(a), sparse::cast_values<float>(b), options,
                                     static_cast<int>(repeat), check)
                           : measure(a, b, options, static_cast<int>(repeat), check);
  if (!m) {
    // The only refusal spgemm makes on valid inputs is the memory estimate.
    return m.error().code() == ErrorCode::kUnsupported ? m.error().at({"--max-memory"}) : m.error();
  }
  const double seconds = std::max(m->best.seconds(), 1e-9);
  const double gflops = 2.0 * static_cast<double>(mults) / seconds / 1e9;
  const double compression = m->nnz_c > 0 ? static_cast<double>(mults) / static_cast<double>(m->nnz_c) : 0.0;

  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("a", a_path).field("b", b_path.empty() ? a_path : b_path).field("product", product);
    w.field("rows", a.rows).field("inner", a.cols).field("cols", b.cols);
    w.field("nnz_a", a.nnz()).field("nnz_b", b.nnz());
    w.field("algo", std::string(sparse::to_string(*algo))).field("threads", threads);
    w.field("precision", std::string(f32 ? "f32" : "f64"));
    w.field("multiplications", mults).field("nnz_c", m->nnz_c).field("nnz_c_upper_bound", bound);
    w.field("compression_ratio", compression).field("time_s", seconds).field("gflops", gflops);
    if (m->checked) {
      w.key("check").begin_object().field("ok", m->check_ok).field("max_rel_diff", m->max_rel_diff).end_object();
    }
    w.end_object();
    ctx.out << "\n";
  } else {
    TableWriter t({"quantity", "value"});
    t.set_title("SpGEMM " + product + " (" + std::string(sparse::to_string(*algo)) + ", " + std::to_string(threads) +
                " thread" + (threads == 1 ? "" : "s") + ", " + (f32 ? "f32" : "f64") + ")");
    t.add_row({"A", a_path + " (" + std::to_string(a.rows) + " x " + std::to_string(a.cols) + ", " +
                        std::to_string(a.nnz()) + " nnz)"});
    if (!b_path.empty()) {
      t.add_row({"B", b_path + " (" + std::to_string(b.rows) + " x " + std::to_string(b.cols) + ", " +
                          std::to_string(b.nnz()) + " nnz)"});
    }
    t.add_row({"multiplications", std::to_string(mults)});
    t.add_row({"nnz(C)", std::to_string(m->nnz_c)});
    t.add_row({"compression ratio", fmt(compression)});
    t.add_row({"time (best of " + std::to_string(repeat) + ")", format_time(m->best)});
    t.add_row({"GFLOPS", fmt(gflops)});
    if (m->checked) {
      t.add_row({"check vs reference", std::string(m->check_ok ? "ok" : "MISMATCH") + " (max rel diff " +
                                           fmt(m->max_rel_diff) + ")"});
    }
    ctx.out << t.render();
  }
  if (m->checked && !m->check_ok) {
    return Error(ErrorCode::kCheckFailed, "result differs from the reference", "max rel diff " + fmt(m->max_rel_diff));
  }
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
           "ratio multiplications / nnz(C) and nnz(C) (entries that received a product, zeros included).\n"
           "--check compares with the reference kernel (exit 1 on a mismatch). A product whose C may\n"
           "exceed --max-memory is refused before allocating.\n"
           "Example: mlsys sparse spgemm wiki-Vote.mtx.gz --algo hash --threads 2 --check",
       .options = {{.name = "a", .type = OptionType::kString, .description = "matrix A: .mtx, .txt or .tsv, optionally .gz",
                    .required = true, .positional = true},
                   {.name = "b", .type = OptionType::kString, .description = "matrix B; default A (or Aᵀ when A is rectangular)"},
                   {.name = "algo", .type = OptionType::kString, .default_value = "hash",
                    .description = "SpGEMM kernel", .choices = {"spa", "hash", "heap", "reference"}},
                   {.name = "threads", .type = OptionType::kInt, .default_value = "1",
                    .description = "worker threads; rows split by equal multiplications"},
                   {.name = "precision", .type = OptionType::kString, .default_value = "f64",
                    .description = "value type", .choices = {"f64", "f32"}},
                   {.name = "repeat", .type = OptionType::kInt, .default_value = "3",
                    .description = "timed runs; the best is reported"},
                   {.name = "check", .type = OptionType::kFlag, .default_value = "false",
                    .description = "compare C with the reference kernel"},
                   {.name = "max-memory", .type = OptionType::kBytes, .default_value = "8GiB",
                    .description = "refuse a product whose C may need more than this"}},
       .run = run_sparse_spgemm},
  };
}

}  // namespace mlsys::cli
