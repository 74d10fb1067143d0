// mlsys coll paths: TCCL-style ring and tree-chain search on an NCCL topology XML.

#include <cstdio>
#include <filesystem>
#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/coll/tccl.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/table_writer.h"

namespace mlsys::cli {
namespace {

constexpr char kRingFormula[] =
    "ring allreduce: every edge carries 2(R-1)/R of the vector, so algBw = B * R / (2(R-1)) and "
    "busBw = algBw * 2(R-1)/R = B";
constexpr char kChainFormula[] =
    "tree chain: the vector streams both ways over every edge (reduce up, broadcast down), so "
    "algBw = B and busBw = algBw * 2(R-1)/R";
constexpr char kModel[] =
    "B = min over directed links of capacity / streams crossing it; every stream is routed through "
    "the file's NVLink / PCIe tree (GPU -> switch -> CPU [-> SMP -> CPU] -> switch -> GPU)";

// 1.6667 -> "1.67".
std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string order_text(const coll::PathCandidate& c) {
  // "nic0 > 0 1 2 3 > nic1": a ring entering and leaving the node; "nic0 <> 0 1 2 3": a chain's head NIC.
  std::string s;
  if (c.nic_in >= 0) s += "nic" + std::to_string(c.nic_in) + (c.kind == coll::PathKind::kChain ? " <> " : " > ");
  for (size_t i = 0; i < c.gpus.size(); ++i) s += (i ? " " : "") + std::to_string(c.gpus[i]);
  if (c.nic_out >= 0) s += " > nic" + std::to_string(c.nic_out);
  return s;
}

// "0-7" for a contiguous run, else "0,2,4".
std::string gpus_text(const std::vector<int>& gpus) {
  bool contiguous = true;
  for (size_t i = 1; i < gpus.size(); ++i) contiguous = contiguous && gpus[i] == gpus[i - 1] + 1;
  if (contiguous && gpus.size() > 2) return std::to_string(gpus.front()) + "-" + std::to_string(gpus.back());
  std::string s;
  for (size_t i = 0; i < gpus.size(); ++i) s += (i ? "," : "") + std::to_string(gpus[i]);
  return s;
}

std::string streams_text(const coll::PathModel& m, const coll::PathCandidate& c) {
  // A chain's streams come in pairs, each edge then its reverse: print the edge once.
  const bool chain = c.kind == coll::PathKind::kChain;
  const std::vector<coll::PathTransfer> streams = m.transfers(c);
  std::string s;
  for (size_t i = 0; i < streams.size(); i += chain ? 2 : 1) {
    const coll::PathTransfer& t = streams[i];
    s += (s.empty() ? "" : ", ") + t.src + (chain ? "<->" : "->") + t.dst + " " + t.type;
  }
  return s;
}

void write_candidate(JsonWriter& w, const coll::PathModel& m, const coll::PathCandidate& c) {
  const coll::PathLink& b = m.links()[static_cast<size_t>(c.bottleneck_link)];
  w.begin_object();
  w.key("order").begin_array();
  for (int g : c.gpus) w.value(g);
  w.end_array();
  if (c.nic_in >= 0) w.field("nic_in", c.nic_in);
  if (c.nic_out >= 0) w.field("nic_out", c.nic_out);
  w.field("bottleneck_Bps", c.bottleneck.base());
  w.field("alg_bw_Bps", c.alg_bw.base()).field("bus_bw_Bps", c.bus_bw.base());
  w.field("bottleneck_link", b.src + "->" + b.dst).field("bottleneck_kind", b.kind);
  w.field("bottleneck_capacity_Bps", b.capacity.base()).field("bottleneck_streams", c.bottleneck_load);
  w.field("links_at_bottleneck", c.links_at_bottleneck).field("socket_crossings", c.socket_crossings);
  w.key("streams").begin_array();
  for (const coll::PathTransfer& t : m.transfers(c)) {
    w.begin_object().field("src", t.src).field("dst", t.dst).field("type", t.type).field("weight", t.weight);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void add_row(TableWriter& t, const coll::PathModel& m, const std::string& label, const coll::PathCandidate& c) {
  const coll::PathLink& b = m.links()[static_cast<size_t>(c.bottleneck_link)];
  t.add_row({label, order_text(c), format_bandwidth(c.bus_bw), format_bandwidth(c.alg_bw), format_bandwidth(c.bottleneck),
             b.src + "->" + b.dst + " (" + b.kind + " " + format_bandwidth(b.capacity) + ")",
             std::to_string(c.bottleneck_load), std::to_string(c.socket_crossings)});
}

std::string render_table(const std::string& title, const coll::PathModel& m, const std::vector<coll::PathCandidate>& best,
                         const coll::PathCandidate& reference) {
  TableWriter t({"#", "order", "busBw", "algBw", "B", "bottleneck link (capacity)", "streams", "SMP crossings"});
  t.set_title(title);
  t.set_align(0, Align::kLeft);
  t.set_align(1, Align::kLeft);
  for (size_t i = 0; i < best.size(); ++i) add_row(t, m, std::to_string(i + 1), best[i]);
  t.add_separator();
  add_row(t, m, "NCCL default", reference);
  return t.render();
}

Status run_coll_paths(Context& ctx) {
  const OptionValues& o = ctx.options;
  const std::string& path = o.text("nccl-topo");
  MLSYS_ASSIGN_OR_RETURN(hw::NcclTopology topo, hw::read_nccl_topology_file(path));
  coll::PathSearchOptions opts;
  if (o.has("gpus") && !o.text("gpus").empty() && !topo.gpus.empty()) {
    MLSYS_ASSIGN_OR_RETURN(opts.gpus, coll::parse_gpu_selection(o.text("gpus"), static_cast<int>(topo.gpus.size())));
  }
  opts.nodes = static_cast<int>(std::clamp<int64_t>(o.integer("nodes"), -1, 1 << 21));
  opts.top_k = static_cast<int>(std::clamp<int64_t>(o.integer("top"), -1, 1 << 20));
  MLSYS_ASSIGN_OR_RETURN(opts.method, coll::parse_path_search_method(o.text("search")));
  opts.seed = ctx.global.seed;
  MLSYS_ASSIGN_OR_RETURN(coll::PathSearchResult r, coll::search_paths(topo, opts));
  const coll::PathModel& m = r.model;

  std::vector<std::string> notes = m.notes();
  for (const std::string& n : topo.notes) notes.push_back("import: " + n);
  notes.push_back("chains: the ideal pipelined bound; NCCL's tuning halves a tree's searched bandwidth and caps "
                  "it per channel, so NCCL prefers rings for large messages");
  notes.push_back("not modelled: TCCL's measured in-CPU congestion and bounce buffers, NCCL's Intel P2P 6/5 charge "
                  "on PHB paths, NVB paths, LL/LL128 protocol factors, several channels");
  const double speedup = r.rings.front().bus_bw / r.default_ring.bus_bw;
  const std::string file = std::filesystem::path(path).filename().string();

  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("file", file).field("cpus", static_cast<int64_t>(topo.topology.nodes_of_kind(hw::NodeKind::kCpu).size()));
    w.key("gpus").begin_array();
    for (int g : m.gpus()) w.value(g);
    w.end_array();
    w.field("nodes", m.nodes()).field("ranks", m.ranks()).field("search", std::string(coll::to_string(r.method)));
    w.field("rings_evaluated", r.rings_evaluated).field("chains_evaluated", r.chains_evaluated);
    if (r.rings_better_than_default >= 0) w.field("rings_better_than_default", r.rings_better_than_default);
    w.field("best_ring_speedup", speedup);
    w.key("formula").begin_object().field("model", kModel).field("ring", kRingFormula).field("chain", kChainFormula);
    w.end_object();
    w.key("rings").begin_array();
    for (const auto& c : r.rings) write_candidate(w, m, c);
    w.end_array();
    w.key("default_ring");
    write_candidate(w, m, r.default_ring);
    w.key("chains").begin_array();
    for (const auto& c : r.chains) write_candidate(w, m, c);
    w.end_array();
    w.key("default_chain");
    write_candidate(w, m, r.default_chain);
    w.key("notes").begin_array();
    for (const auto& n : notes) w.value(n);
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }

  std::ostream& out = ctx.out;
  out << "coll paths: " << file << ", GPUs " << gpus_text(m.gpus()) << " on " << m.nodes()
      << (m.nodes() == 1 ? " node" : " nodes") << " (R = " << m.ranks() << " ranks); " << coll::to_string(r.method)
      << " search scored " << r.rings_evaluated << " rings and " << r.chains_evaluated << " chains\n";
  out << "  " << kModel << "\n  " << kRingFormula << "\n  " << kChainFormula << "\n\n";
  out << render_table("Rings, best first, beside NCCL's device-order ring", m, r.rings, r.default_ring) << "\n";
  out << "best ring busBw " << format_bandwidth(r.rings.front().bus_bw) << " vs NCCL default "
      << format_bandwidth(r.default_ring.bus_bw) << ": " << fixed(speedup) << "x";
  if (r.rings_better_than_default >= 0) {
    out << "; " << r.rings_better_than_default << " of " << r.rings_evaluated << " rings beat the default";
  }
  out << "\n  best:    " << streams_text(m, r.rings.front()) << "\n  default: " << streams_text(m, r.default_ring)
      << "\n\n";
  out << render_table("Tree chains (NCCL's intra-node tree pattern), best first", m, r.chains, r.default_chain) << "\n";
  out << "notes:\n";
  for (const auto& n : notes) out << "  " << n << "\n";
  return {};
}

}  // namespace

std::vector<Command> coll_paths_commands() {
  return {
      {.group = "coll",
       .name = "paths",
       .summary = "TCCL-style search for the fastest rings and tree chains through an NCCL topology XML",
       .description =
           "Routes every ring edge through the file's PCIe / NVLink / NIC tree, counts the streams on each\n"
           "directed link (shared switch uplinks, CPU-socket crossings, NICs), and ranks rings by the\n"
           "bottleneck B = min capacity / streams; printed beside NCCL's default ring (GPUs in device order).\n"
           "busBw follows nccl-tests: busBw = algBw * 2(R-1)/R; for a ring busBw = B. Exhaustive search up to\n"
           "8 GPUs (a ring and its reverse counted once), greedy + 2-opt beyond. --nodes N > 1 makes the ring\n"
           "enter and leave every node through a NIC, and searches which ones.\n"
           "Examples:\n  mlsys coll paths --nccl-topo aws-p4d-24xl-topo.xml\n"
           "  mlsys coll paths --nccl-topo topo.xml --gpus 0,2,4,6 --top 5 --json\n"
           "  mlsys coll paths --nccl-topo topo.xml --nodes 4",
       .options =
           {{.name = "nccl-topo", .type = OptionType::kString,
             .description = "NCCL topology XML (the NCCL_TOPO_FILE / NCCL_TOPO_DUMP_FILE format)", .required = true},
            {.name = "gpus", .type = OptionType::kString,
             .description = "GPUs to place on the ring, by device index: 0-7, 0,2,4 or 0-3,6 (default: all)"},
            {.name = "top", .type = OptionType::kInt, .default_value = "3",
             .description = "how many best rings and chains to print (1-1000)"},
            {.name = "nodes", .type = OptionType::kInt, .default_value = "1",
             .description = "identical nodes the ring spans; > 1 routes it through NICs"},
            {.name = "search", .type = OptionType::kString, .default_value = "auto",
             .description = "auto (exhaustive up to 8 GPUs), exhaustive, or heuristic (greedy + 2-opt)",
             .choices = {"auto", "exhaustive", "heuristic"}}},
       .run = run_coll_paths},
  };
}

}  // namespace mlsys::cli
