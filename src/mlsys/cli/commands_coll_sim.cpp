// mlsys coll sim: collective algorithms timed on a topology -- analytic (alpha-beta-gamma with
// link congestion) or flow-level (max-min fair sharing) -- over a sweep of vector sizes.

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/cost_model.h"
#include "mlsys/coll/flow_executor.h"
#include "mlsys/core/progress.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/svg_plot.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/hw/topology_builders.h"

namespace mlsys::cli {
namespace {

// Algorithms whose peers come from torus coordinates (a ring per dimension, dimension rotation):
// they need a torus topology or a logical shape from --torus.
constexpr std::array<std::string_view, 3> kTorusAlgorithms = {"bucket", "swing-lat", "swing-bw"};

// The allreduce algorithms compared by default (the Swing paper's set).
constexpr char kDefaultAllreduce[] = "ring,recdoub,rabenseifner,bucket,swing-lat,swing-bw";

constexpr int kMaxSizes = 64;

struct DType {
  std::string_view name;
  int64_t bytes;
};
constexpr std::array<DType, 6> kDTypes = {{{"f32", 4}, {"f64", 8}, {"i32", 4}, {"i64", 8}, {"bf16", 2}, {"f16", 2}}};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    items.emplace_back(trim_blanks(std::string_view(text).substr(pos, end - pos)));
    pos = end + 1;
  }
  return items;
}

// "32B..128MiB" (LOW, 2 LOW, 4 LOW, ... up to HIGH) or "1KiB,64KiB,1MiB".
Result<std::vector<Bytes>> parse_sizes(const std::string& text, int64_t element, std::string_view dtype) {
  const Location where{"--sizes"};
  std::vector<Bytes> sizes;
  const size_t dots = text.find("..");
  if (dots != std::string::npos) {
    auto lo = parse_bytes(text.substr(0, dots));
    if (!lo) return lo.error().at(where);
    auto hi = parse_bytes(text.substr(dots + 2));
    if (!hi) return hi.error().at(where);
    if (lo->count() <= 0) return invalid_input("size range '" + text + "' starts at zero", "start at 1 byte or more", where);
    if (*hi < *lo) return invalid_input("size range '" + text + "' is reversed", "write LOW..HIGH, e.g. 32B..128MiB", where);
    for (Bytes b = *lo;; b = b * 2) {
      sizes.push_back(b);
      if (b.count() > hi->count() / 2) break;  // the next doubling would pass HIGH
      if (static_cast<int>(sizes.size()) == kMaxSizes) {
        return invalid_input("size range '" + text + "' has more than " + std::to_string(kMaxSizes) + " sizes",
                             "narrow the range", where);
      }
    }
  } else {
    for (const std::string& item : split_list(text)) {
      auto b = parse_bytes(item);
      if (!b) return b.error().at(where);
      if (b->count() <= 0) return invalid_input("size '" + item + "' is zero", "give sizes of 1 byte or more", where);
      sizes.push_back(*b);
    }
    if (static_cast<int>(sizes.size()) > kMaxSizes) {
      return invalid_input("more than " + std::to_string(kMaxSizes) + " sizes", "give fewer sizes", where);
    }
  }
  for (Bytes b : sizes) {
    if (b.count() % element != 0) {
      return invalid_input("size " + format_bytes(b) + " (" + std::to_string(b.count()) + " bytes) is not a whole number of " +
                               std::string(dtype) + " elements",
                           "give multiples of " + std::to_string(element) + " bytes", where);
    }
  }
  return sizes;
}

// The topology with --link-bw / --link-latency passed through its spec's bw= / lat= overrides.
Result<hw::Topology> load_topology(const OptionValues& o) {
  std::string spec = o.text("topology");
  const bool nccl = spec.rfind("nccl:", 0) == 0;
  for (const auto& [option, key] : {std::pair{"link-bw", "bw="}, std::pair{"link-latency", "lat="}}) {
    if (!o.has(option)) continue;
    const Location where{"--" + std::string(option)};
    if (nccl) {
      return invalid_input(std::string(key == std::string("bw=") ? "link bandwidth" : "link latency") +
                               " cannot be set on an NCCL topology file",
                           "its links (NVLink, PCIe, NIC) come from the XML; drop --" + std::string(option), where);
    }
    if (spec.find(std::string(",") + key) != std::string::npos) {
      return invalid_input("link " + std::string(key == std::string("bw=") ? "bandwidth" : "latency") +
                               " given twice: in --topology and in --" + option,
                           "keep one of them", where);
    }
    spec += "," + std::string(key) + o.text(option);
  }
  auto topo = hw::parse_topology_spec(spec);
  if (!topo) return topo.error().at({"--topology"});
  if (topo->endpoint_count() < 2) {
    return invalid_input("topology '" + spec + "' has fewer than 2 endpoints", "use a larger topology", {"--topology"});
  }
  return std::move(*topo);
}

// Ranks per node when --ranks-per-node is 0: the endpoints of the first endpoint's host, if
// every host holds that many consecutive ranks; else 1.
int ranks_per_node_of(const hw::Topology& topo) {
  const int p = topo.endpoint_count();
  const int host = topo.node(topo.endpoint(0)).host;
  if (host < 0) return 1;
  int n = 0;
  while (n < p && topo.node(topo.endpoint(n)).host == host) ++n;
  if (p % n != 0) return 1;
  for (int r = 0; r < p; ++r) {
    if (topo.node(topo.endpoint(r)).host != topo.node(topo.endpoint(r - r % n)).host) return 1;
    if (r % n == 0 && r > 0 && topo.node(topo.endpoint(r)).host == topo.node(topo.endpoint(r - 1)).host) return 1;
  }
  return n;
}

// The option a make_algorithm error is about.
std::string option_at_fault(const std::string& message) {
  if (message.find("port") != std::string::npos) return "--ports";
  if (message.find("ranks_per_node") != std::string::npos) return "--ranks-per-node";
  if (message.find("torus") != std::string::npos) return "--torus";
  return "--algo";
}

struct SimRow {
  std::string algo;
  Bytes bytes;
  coll::CollectiveTiming timing;
  bool fastest = false;
};

// Times one algorithm at every size with the chosen model.
Status time_algorithm(const coll::Algorithm& algo, const hw::Topology& topo, const std::string& model,
                      const coll::CostParams& cost, const std::vector<Bytes>& sizes, int64_t element, int64_t vector_scale,
                      ProgressBar& bar, std::vector<SimRow>& rows) {
  if (model == "analytic") {
    auto patterns = coll::StepPatterns::compile(algo);
    if (!patterns) {
      if (patterns.error().code() == ErrorCode::kUnsupported) {
        return patterns.error().at({"--model"}).context("--model analytic");
      }
      return patterns.error();
    }
    MLSYS_ASSIGN_OR_RETURN(coll::AnalyticModel m, coll::AnalyticModel::build(*patterns, topo, cost));
    bar.advance();
    for (Bytes b : sizes) {
      rows.push_back({algo.name(), b, m.time(b * vector_scale)});
      bar.advance();
    }
    return ok_status();
  }
  coll::FlowOptions options{.cost = cost};
  options.mode = model == "flow-event"  ? coll::FlowMode::kEventDriven
                 : model == "flow-sync" ? coll::FlowMode::kStepSynchronous
                                        : coll::FlowMode::kAuto;
  auto m = coll::FlowModel::build(algo, topo, options);
  if (!m) return m.error().code() == ErrorCode::kUnsupported ? m.error().at({"--model"}) : m.error();
  bar.advance();
  for (Bytes b : sizes) {
    MLSYS_ASSIGN_OR_RETURN(coll::CollectiveTiming t, m->time(b * vector_scale, element));
    rows.push_back({algo.name(), b, std::move(t)});
    bar.advance();
  }
  return ok_status();
}

double goodput(const SimRow& r) {
  return r.timing.seconds > 0 ? static_cast<double>(r.bytes.count()) / r.timing.seconds : 0.0;
}

Status run_coll_sim(Context& ctx) {
  const OptionValues& o = ctx.options;
  MLSYS_ASSIGN_OR_RETURN(hw::Topology topo, load_topology(o));
  const int p = topo.endpoint_count();

  MLSYS_ASSIGN_OR_RETURN(coll::Collective op, coll::parse_collective(o.text("op")));
  const auto dtype = std::find_if(kDTypes.begin(), kDTypes.end(), [&](const DType& d) { return d.name == o.text("dtype"); });
  const int64_t element = dtype->bytes;
  MLSYS_ASSIGN_OR_RETURN(std::vector<Bytes> sizes, parse_sizes(o.text("sizes"), element, dtype->name));

  std::vector<std::string> names;
  if (!o.has("algo")) {
    names = op == coll::Collective::kAllreduce ? split_list(kDefaultAllreduce) : coll::algorithm_names(op);
  } else {
    names = split_list(o.text("algo"));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return invalid_input("empty name in --algo '" + o.text("algo") + "'", "separate names with commas", {"--algo"});
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) return invalid_input("algorithm '" + names[i] + "' given twice", "name each once", {"--algo"});
    }
  }

  coll::AlgorithmParams params{.collective = op, .ranks = p};
  if (o.has("torus")) {
    auto dims = coll::parse_torus_dims(o.text("torus"));
    if (!dims) return dims.error().at({"--torus"});
    params.torus = *dims;
  } else if (topo.torus()) {
    params.torus = topo.torus()->dims;
  }
  params.ports = static_cast<int>(o.integer("ports"));
  if (params.ports < 1) return invalid_input("--ports must be at least 1", "use 1, or up to 2 per torus dimension", {"--ports"});
  const int64_t rpn = o.integer("ranks-per-node");
  if (rpn < 0 || rpn > p) {
    return invalid_input("--ranks-per-node " + std::to_string(rpn) + " is out of range",
                         "give 1.." + std::to_string(p) + ", or 0 to take it from the topology", {"--ranks-per-node"});
  }
  params.ranks_per_node = rpn == 0 ? ranks_per_node_of(topo) : static_cast<int>(rpn);

  const coll::CostParams cost{.software_overhead = o.time("overhead"),
                              .reduce_bandwidth = o.has("reduce-bw") ? o.bandwidth("reduce-bw") : Bps(0)};
  const std::string& model = o.text("model");
  // Alltoall sizes are each rank's send buffer; the schedule's vector is all ranks' buffers.
  const int64_t vector_scale = op == coll::Collective::kAlltoall ? p : 1;

  std::vector<std::unique_ptr<coll::Algorithm>> algos;
  for (const std::string& name : names) {
    const bool torus_algo = std::find(kTorusAlgorithms.begin(), kTorusAlgorithms.end(), name) != kTorusAlgorithms.end();
    if (torus_algo && params.torus.empty()) {
      return invalid_input("algorithm '" + name + "' places ranks on a torus, but topology '" + topo.name() + "' is not one",
                           "give the ranks a logical shape with --torus (e.g. --torus " + std::to_string(p) +
                               "), or use ring, recdoub or rabenseifner",
                           {"--algo"});
    }
    auto a = coll::make_algorithm(name, params);
    if (!a) return a.error().at({option_at_fault(a.error().message())});
    algos.push_back(std::move(*a));
  }

  std::vector<SimRow> rows;
  {
    ProgressBar bar("coll sim", static_cast<int64_t>(algos.size() * (sizes.size() + 1)), ctx.global.quiet);
    for (const auto& a : algos) {
      MLSYS_RETURN_IF_ERROR(time_algorithm(*a, topo, model, cost, sizes, element, vector_scale, bar, rows));
    }
    bar.finish();
  }
  // Rows are algorithm-major: row a * sizes + s.
  const size_t n_sizes = sizes.size();
  for (size_t s = 0; s < n_sizes; ++s) {
    size_t best = s;
    for (size_t a = 1; a < algos.size(); ++a) {
      if (rows[a * n_sizes + s].timing.time < rows[best].timing.time) best = a * n_sizes + s;
    }
    rows[best].fastest = true;
  }

  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("topology", topo.name()).field("ranks", p).field("op", std::string(coll::to_string(op)));
    w.field("model", model).field("dtype", std::string(dtype->name)).field("element_bytes", element);
    w.field("ranks_per_node", params.ranks_per_node).field("ports", params.ports);
    w.key("torus").begin_array();
    for (int d : params.torus) w.value(d);
    w.end_array();
    w.key("algorithms").begin_array();
    for (const std::string& n : names) w.value(n);
    w.end_array();
    w.key("rows").begin_array();
    for (const SimRow& r : rows) {
      w.begin_object().field("algo", r.algo).field("bytes", r.bytes.count()).field("time_s", r.timing.seconds);
      w.field("goodput_Bps", goodput(r)).field("fastest", r.fastest).field("model", r.timing.model);
      w.field("steps", r.timing.steps).field("messages", r.timing.messages);
      w.end_object();
    }
    w.end_array();
    w.key("fastest").begin_array();  // one per size, in size order
    for (size_t s = 0; s < n_sizes; ++s) {
      for (size_t a = 0; a < algos.size(); ++a) {
        const SimRow& r = rows[a * n_sizes + s];
        if (r.fastest) w.begin_object().field("bytes", r.bytes.count()).field("algo", r.algo).end_object();
      }
    }
    w.end_array();
    w.end_object();
    ctx.out << "\n";
  } else {
    std::vector<std::string> headers{"size"};
    headers.insert(headers.end(), names.begin(), names.end());
    TableWriter times(headers);
    TableWriter rates(headers);
    std::vector<std::string> paths;  // the flow paths the algorithms took
    for (const SimRow& r : rows) {
      if (std::find(paths.begin(), paths.end(), r.timing.model) == paths.end()) paths.push_back(r.timing.model);
    }
    const std::string used = join(paths, ", ");
    times.set_title(std::string(coll::to_string(op)) + " on " + topo.name() + " (" + std::to_string(p) + " ranks, " +
                    std::string(dtype->name) + "), " + (model == "analytic" ? "analytic model" : "flow model (" + used + ")") +
                    ": time, * = fastest");
    rates.set_title("goodput (vector bytes / time), * = fastest");
    for (size_t s = 0; s < n_sizes; ++s) {
      std::vector<std::string> t_cells{format_bytes(sizes[s])};
      std::vector<std::string> g_cells{format_bytes(sizes[s])};
      for (size_t a = 0; a < algos.size(); ++a) {
        const SimRow& r = rows[a * n_sizes + s];
        const std::string mark = r.fastest ? " *" : "";
        t_cells.push_back(format_time(r.timing.time) + mark);
        g_cells.push_back(format_bandwidth(Bps(goodput(r))) + mark);
      }
      times.add_row(std::move(t_cells));
      rates.add_row(std::move(g_cells));
    }
    ctx.out << times.render() << "\n" << rates.render();
  }

  if (!ctx.global.plot.empty()) {
    LinePlot plot(std::string(coll::to_string(op)) + " goodput on " + topo.name(),
                  {.label = "vector size", .scale = AxisScale::kLog2,
                   .format = [](double v) { return format_bytes(B(std::llround(v))); }},
                  {.label = "goodput (GB/s)", .scale = AxisScale::kLog10});
    for (size_t a = 0; a < algos.size(); ++a) {
      std::vector<double> x;
      std::vector<double> y;
      for (size_t s = 0; s < n_sizes; ++s) {
        x.push_back(static_cast<double>(sizes[s].count()));
        y.push_back(goodput(rows[a * n_sizes + s]) / 1e9);
      }
      plot.add_series(names[a], std::move(x), std::move(y));
    }
    MLSYS_ASSIGN_OR_RETURN(std::string svg, plot.render());
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.plot, svg, "plot"));
  }
  return ok_status();
}

}  // namespace

std::vector<Command> coll_sim_commands() {
  return {
      {.group = "coll",
       .name = "sim",
       .summary = "time collective algorithms on a topology over a sweep of vector sizes (analytic or flow model)",
       .description =
           "Every algorithm's schedule runs on the topology's endpoints (rank r on endpoint r), messages routed\n"
           "dimension-order on tori and by deterministic ECMP elsewhere. --model analytic: per step, max over\n"
           "messages of route latency + bytes crossing the most loaded link on its route / that link's bandwidth,\n"
           "steps summed (ring on P nodes: 2(P-1)L + 2(P-1)/P n/B). --model flow: the flow-level network with\n"
           "max-min fair sharing; event-driven per-rank execution when ranks x steps <= 16384 (flow-event),\n"
           "else one barrier per step with each distinct step simulated once (flow-sync); both can be forced.\n"
           "Sizes are each rank's vector (alltoall: its send buffer); goodput = size / time.\n"
           "Examples:\n"
           "  mlsys coll sim --topology torus:8x8 --link-bw 400Gbps --link-latency 1us --sizes 32B..128MiB\n"
           "  mlsys coll sim --topology torus:64x64 --algo swing-bw,bucket --sizes 1MiB,64MiB --model analytic\n"
           "  mlsys coll sim --topology fattree:k=8 --algo ring,recdoub,swing-bw --torus 8x16 --json",
       .options =
           {topology_option(),
            {.name = "link-bw", .type = OptionType::kBandwidth,
             .description = "bandwidth of the topology's network / torus links (not for nccl: files); default: the topology's"},
            {.name = "link-latency", .type = OptionType::kTime,
             .description = "latency of each such link (per hop); default: the topology's"},
            {.name = "op", .type = OptionType::kString, .default_value = "allreduce", .description = "the collective",
             .choices = {"allreduce", "reduce-scatter", "allgather", "alltoall"}},
            {.name = "algo", .type = OptionType::kString,
             .description = "comma-separated algorithms (allreduce default: ring,recdoub,rabenseifner,bucket,swing-lat,"
                            "swing-bw; other ops: all of theirs)"},
            {.name = "sizes", .type = OptionType::kString, .default_value = "32B..128MiB",
             .description = "vector sizes per rank: LOW..HIGH doubling (32B..128MiB is 23 sizes) or a comma list"},
            {.name = "model", .type = OptionType::kString, .default_value = "flow",
             .description = "analytic (closed form with congestion), flow (picks flow-event or flow-sync), flow-event, flow-sync",
             .choices = {"analytic", "flow", "flow-event", "flow-sync"}},
            {.name = "dtype", .type = OptionType::kString, .default_value = "f32",
             .description = "element type: sizes must be whole elements", .choices = {"f32", "f64", "i32", "i64", "bf16", "f16"}},
            {.name = "ports", .type = OptionType::kInt, .default_value = "1",
             .description = "concurrent mirrored collectives for swing-lat / swing-bw / bucket (1 .. 2 x torus dimensions)"},
            {.name = "ranks-per-node", .type = OptionType::kInt, .default_value = "0",
             .description = "consecutive ranks per node for hierarchical / 2dh / pipe-a2a; 0: the endpoints per host"},
            {.name = "torus", .type = OptionType::kString,
             .description = "logical torus shape of the ranks (e.g. 8x16); default: the topology's, if it is a torus"},
            {.name = "overhead", .type = OptionType::kTime, .default_value = "0s",
             .description = "software overhead per message, added to its route latency"},
            {.name = "reduce-bw", .type = OptionType::kBandwidth,
             .description = "bytes per second a rank reduces (the gamma term); default: reduction is free"}},
       .run = run_coll_sim},
  };
}

}  // namespace mlsys::cli
