// mlsys coll run: our collective schedules executed for real over MPI, checked against and timed
// beside the MPI library's own collective. MPI starts only inside this command, so every other
// command runs without mpirun; without mpirun this one runs as a one-rank singleton.

#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/mpi/mpi_benchmark.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/table_writer.h"

namespace mlsys::cli {
namespace {

// The options every rank must agree on: the command's own, and the seed that fills the data.
std::vector<std::pair<std::string, std::string>> agreement_options(const Context& ctx) {
  std::vector<std::pair<std::string, std::string>> list;
  for (const OptionSpec& spec : ctx.options.specs()) {
    list.emplace_back("--" + spec.name, ctx.options.has(spec.name) ? ctx.options.text(spec.name) : "(unset)");
  }
  list.emplace_back("--seed", std::to_string(ctx.global.seed));
  return list;
}

Result<coll::BenchmarkConfig> read_config(const Context& ctx) {
  const OptionValues& o = ctx.options;
  coll::BenchmarkConfig c;
  auto collective = coll::parse_collective(o.text("op"));
  if (!collective) return collective.error().at({"--op"});
  c.collective = *collective;
  c.algorithm = o.text("algo");
  if (o.has("torus")) {
    auto dims = coll::parse_torus_dims(o.text("torus"));
    if (!dims) return dims.error().at({"--torus"});
    c.torus = *dims;
  }
  auto type = coll::parse_data_type(o.text("dtype"));
  if (!type) return type.error().at({"--dtype"});
  c.type = *type;
  auto op = coll::parse_reduce_op(o.text("reduce-op"));
  if (!op) return op.error().at({"--reduce-op"});
  c.op = *op;
  auto sizes = coll::parse_size_list(o.text("sizes"), coll::element_size(c.type));
  if (!sizes) return sizes.error().at({"--sizes"});
  c.sizes = *sizes;
  const auto int_option = [&](const char* name, int64_t lo, int64_t hi, int& out) -> Status {
    const int64_t v = o.integer(name);
    if (v < lo || v > hi) {
      return invalid_input(std::string("--") + name + " must be in " + std::to_string(lo) + ".." +
                               std::to_string(hi) + ", got " + std::to_string(v),
                           "e.g. --" + std::string(name) + " " + std::to_string(std::max<int64_t>(lo, 1)),
                           {std::string("--") + name});
    }
    out = static_cast<int>(v);
    return {};
  };
  MLSYS_RETURN_IF_ERROR(int_option("iters", 0, 1'000'000, c.iters));
  MLSYS_RETURN_IF_ERROR(int_option("warmup", 0, 1'000'000, c.warmup));
  MLSYS_RETURN_IF_ERROR(int_option("ports", 1, 64, c.ports));
  MLSYS_RETURN_IF_ERROR(int_option("ranks-per-node", 1, 1 << 20, c.ranks_per_node));
  c.chunk = o.bytes("chunk");
  if (c.chunk < B(coll::element_size(c.type))) {
    return invalid_input("--chunk " + o.text("chunk") + " is smaller than one element", "e.g. --chunk 4MiB",
                         {"--chunk"});
  }
  c.seed = ctx.global.seed;
  return c;
}

std::string ratio_text(Time mpi, Time ours) {
  if (ours <= Time::zero()) return "-";
  return fmt(mpi / ours, 3);
}

void print_text(const Context& ctx, const coll::BenchmarkConfig& c, const coll::BenchmarkReport& report) {
  std::string head = "coll run: " + std::string(to_string(c.collective)) + " " + c.algorithm + " on " +
                     std::to_string(report.ranks) + " rank" + (report.ranks == 1 ? "" : "s");
  if (!c.torus.empty()) head += " (torus " + ctx.options.text("torus") + ")";
  head += ", " + std::string(to_string(c.type));
  if (c.collective != coll::Collective::kAllgather) head += " " + std::string(to_string(c.op));
  head += ", chunk " + format_bytes(c.chunk) + "; " + report.mpi_library;
  ctx.out << head << "\n";
  for (const std::string& note : report.notes) ctx.out << "note: " << note << "\n";
  TableWriter t({"size", "count", "algo", "iters", "ours min", "ours avg", "ours max", "MPI min", "MPI avg",
                 "ratio", "min ratio", "verified"});
  for (const coll::SizeResult& r : report.rows) {
    t.add_row({format_bytes(r.bytes), std::to_string(r.count), r.algorithm, std::to_string(r.iters),
               format_time(r.ours.min), format_time(r.ours.avg), format_time(r.ours.max),
               format_time(r.mpi.min), format_time(r.mpi.avg), ratio_text(r.mpi.avg, r.ours.avg),
               ratio_text(r.mpi.min, r.ours.min), r.verified ? "yes" : "NO"});
  }
  ctx.out << t.render();
  ctx.out
      << "times: per iteration, the slowest rank; ratio = MPI avg / ours avg, min ratio = MPI min / ours min "
         "(> 1: ours is faster)\n";
  ctx.out << "check: "
          << (coll::is_order_exact(c.type, c.op) || c.collective == coll::Collective::kAllgather
                  ? "bit-exact against MPI"
                  : "|ours - MPI| <= 2(P-1) u " +
                        std::string(c.op == coll::ReduceOp::kProd ? "|result|" : "sum|x|") +
                        ", u = unit roundoff of " + std::string(to_string(c.type)))
          << (c.type == coll::DataType::kBF16 && c.collective != coll::Collective::kAllgather
                  ? "; bf16 reference: MPI in f32 on the same inputs, rounded once; MPI timed with a "
                    "user-defined bf16 op"
                  : "")
          << "\n";
}

void print_json(const Context& ctx, const coll::BenchmarkConfig& c, const coll::BenchmarkReport& report) {
  JsonWriter w(ctx.out);
  begin_json_result(w, ctx);
  w.field("op", to_string(c.collective)).field("algo", c.algorithm).field("ranks", report.ranks);
  w.key("torus").begin_array();
  for (int d : c.torus) w.value(d);
  w.end_array();
  w.field("dtype", to_string(c.type))
      .field("reduce_op", to_string(c.op))
      .field("chunk_bytes", c.chunk.count());
  w.field("mpi_library", report.mpi_library);
  w.key("notes").begin_array();
  for (const std::string& n : report.notes) w.value(n);
  w.end_array();
  w.key("rows").begin_array();
  for (const coll::SizeResult& r : report.rows) {
    w.begin_object();
    w.field("bytes", r.bytes.count())
        .field("count", r.count)
        .field("algo", r.algorithm)
        .field("iters", r.iters);
    w.field("ours_min_s", r.ours.min.seconds()).field("ours_avg_s", r.ours.avg.seconds());
    w.field("ours_max_s", r.ours.max.seconds()).field("mpi_min_s", r.mpi.min.seconds());
    w.field("mpi_avg_s", r.mpi.avg.seconds()).field("mpi_max_s", r.mpi.max.seconds());
    w.field("ratio", r.ours.avg > Time::zero() ? r.mpi.avg / r.ours.avg : 0.0);
    w.field("ratio_min", r.ours.min > Time::zero() ? r.mpi.min / r.ours.min : 0.0);
    w.field("max_error", r.max_error).field("tolerance", r.tolerance).field("verified", r.verified);
    w.end_object();
  }
  w.end_array();
  w.field("all_verified", report.all_verified());
  w.end_object();
  ctx.out << "\n";
}

Status run_coll_run(Context& ctx) {
  MLSYS_RETURN_IF_ERROR(coll::start_mpi());
  // Agreement first: ranks given different options must all stop here, not wait on each other.
  MLSYS_RETURN_IF_ERROR(coll::check_ranks_agree(MPI_COMM_WORLD, agreement_options(ctx)));
  MLSYS_ASSIGN_OR_RETURN(coll::BenchmarkConfig config, read_config(ctx));
  MLSYS_ASSIGN_OR_RETURN(coll::BenchmarkReport report,
                         coll::run_collective_benchmark(MPI_COMM_WORLD, config));
  if (coll::world_rank() == 0) {
    if (ctx.global.json) {
      print_json(ctx, config, report);
    } else {
      print_text(ctx, config, report);
    }
    ctx.out.flush();
  }
  if (!report.all_verified()) {
    int failed = 0;
    for (const auto& r : report.rows) failed += r.verified ? 0 : 1;
    return Error(ErrorCode::kCheckFailed,
                 "our " + config.algorithm + " result differs from MPI's at " + std::to_string(failed) +
                     " of " + std::to_string(report.rows.size()) + " sizes",
                 "see the 'verified' column on rank 0");
  }
  return {};
}

}  // namespace

std::vector<Command> coll_run_commands() {
  std::vector<std::string> algos = coll::algorithm_names(coll::Collective::kAllreduce);
  algos.emplace_back("auto");
  return {
      {.group = "coll",
       .name = "run",
       .summary = "run a collective schedule for real over MPI, checked against and timed beside MPI's own",
       .description =
           "Executes our schedule with MPI point-to-point messages (MPI_Isend/MPI_Irecv per step), checks "
           "the\n"
           "result against the MPI library's collective on the same seeded data (bit-exact for integers and\n"
           "max/min, a bound derived from the dtype's roundoff and P for float sums and products), and "
           "times\n"
           "both in the same run, osu-style: warm-up, then interleaved iterations after a barrier; per\n"
           "iteration the slowest rank counts; min/avg/max over iterations. Prints on rank 0. Exit 1 when a\n"
           "result differs; exit 2 when ranks were given different options (reported on every rank).\n"
           "Where an algorithm does not support the rank count (swing-bw with odd P) it falls back to\n"
           "rabenseifner, then ring, and says so. Sizes: the whole vector for allreduce, each rank's block "
           "for\n"
           "reduce-scatter and allgather. Without mpirun it runs as one rank.\n"
           "Examples:\n"
           "  mpirun -np 8 mlsys coll run --algo swing-bw --sizes 4B..64MiB --dtype f32\n"
           "  mpirun -np 8 mlsys coll run --algo swing-bw --torus 2x4 --sizes 1KiB,1MiB --reduce-op max "
           "--json\n"
           "  (Open MPI as root, more ranks than cores: mpirun --allow-run-as-root --oversubscribe ...)",
       .options =
           {{.name = "op",
             .type = OptionType::kString,
             .default_value = "allreduce",
             .description = "the collective",
             .choices = {"allreduce", "reduce-scatter", "allgather"}},
            {.name = "algo",
             .type = OptionType::kString,
             .default_value = "swing-bw",
             .description =
                 "our algorithm (reduce-scatter/allgather: ring, rabenseifner, bucket, swing-bw); auto: "
                 "recdoub below 128KiB, else swing-bw (even P) or rabenseifner (odd P)",
             .choices = algos},
            {.name = "sizes",
             .type = OptionType::kString,
             .default_value = "4B..64MiB",
             .description =
                 "sizes: LOW..HIGH doubles from LOW to HIGH; or a comma list (0B,28B,1MiB); or both"},
            {.name = "dtype",
             .type = OptionType::kString,
             .default_value = "f32",
             .description = "element type",
             .choices = {"f32", "f64", "i32", "i64", "bf16"}},
            {.name = "reduce-op",
             .type = OptionType::kString,
             .default_value = "sum",
             .description = "reduction operator",
             .choices = {"sum", "max", "min", "prod"}},
            {.name = "torus",
             .type = OptionType::kString,
             .description =
                 "torus dimensions for dimension-aware algorithms, e.g. 2x4; must multiply to the ranks"},
            {.name = "ports",
             .type = OptionType::kInt,
             .default_value = "1",
             .description = "concurrent mirrored collectives (swing, bucket: up to 2 per torus dimension)"},
            {.name = "ranks-per-node",
             .type = OptionType::kInt,
             .default_value = "1",
             .description = "consecutive ranks per node, for hierarchical"},
            {.name = "iters",
             .type = OptionType::kInt,
             .default_value = "0",
             .description = "timed iterations per size; 0: about 0.2s worth of each, 5 to 1000"},
            {.name = "warmup",
             .type = OptionType::kInt,
             .default_value = "3",
             .description = "untimed iterations per size before timing"},
            {.name = "chunk",
             .type = OptionType::kBytes,
             .default_value = "4MiB",
             .description = "the schedule runs on pieces of at most this size, bounding the extra memory"}},
       .run = run_coll_run},
  };
}

}  // namespace mlsys::cli
