// mlsys coll peers: one rank's schedule of a collective algorithm, step by step -- the peer, its
// torus distance, and the blocks sent and received (reduced or copied).

#include <algorithm>
#include <map>
#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/coll/algorithms.h"
#include "mlsys/coll/schedule_metrics.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/table_writer.h"

namespace mlsys::cli {
namespace {

// One partner of one step: what goes to it and what comes from it.
struct Exchange {
  int step = 0;
  int peer = 0;
  std::vector<int32_t> sent;
  std::vector<int32_t> received;
  std::string kind;  // "reduce", "copy", "mixed" or "" (nothing received)
};

std::vector<Exchange> exchanges(const coll::RankSchedule& s) {
  std::vector<Exchange> out;
  for (size_t i = 0; i < s.steps.size(); ++i) {
    std::map<int, Exchange> by_peer;
    for (const coll::Transfer& t : s.steps[i].sends) {
      Exchange& e = by_peer[t.peer];
      e.sent.insert(e.sent.end(), t.blocks.begin(), t.blocks.end());
    }
    for (const coll::Transfer& t : s.steps[i].recvs) {
      Exchange& e = by_peer[t.peer];
      e.received.insert(e.received.end(), t.blocks.begin(), t.blocks.end());
      const std::string kind = t.kind == coll::RecvKind::kReduce ? "reduce" : "copy";
      e.kind = e.kind.empty() || e.kind == kind ? kind : "mixed";
    }
    for (auto& [peer, e] : by_peer) {
      e.step = static_cast<int>(i);
      e.peer = peer;
      std::sort(e.sent.begin(), e.sent.end());
      std::sort(e.received.begin(), e.received.end());
      out.push_back(std::move(e));
    }
  }
  return out;
}

// "0-7,16-23,40" with runs of three or more folded; at most ~48 characters.
std::string compact(const std::vector<int32_t>& blocks) {
  if (blocks.empty()) return "-";
  std::string s;
  size_t i = 0;
  while (i < blocks.size()) {
    size_t j = i;
    while (j + 1 < blocks.size() && blocks[j + 1] == blocks[j] + 1) ++j;
    std::string part = std::to_string(blocks[i]);
    if (j >= i + 2) {
      part += "-" + std::to_string(blocks[j]);
    } else if (j == i + 1) {
      part += "," + std::to_string(blocks[j]);
    }
    if (!s.empty() && s.size() + part.size() > 40)
      return s + ",... (" + std::to_string(blocks.size()) + " blocks)";
    s += (s.empty() ? "" : ",") + part;
    i = j + 1;
  }
  return s;
}

void write_blocks(JsonWriter& w, std::string_view key, const std::vector<int32_t>& blocks) {
  w.key(key).begin_array();
  for (int32_t b : blocks) w.value(b);
  w.end_array();
}

Status run_coll_peers(Context& ctx) {
  const OptionValues& o = ctx.options;
  MLSYS_ASSIGN_OR_RETURN(coll::Collective collective, coll::parse_collective(o.text("op")));
  std::vector<int> torus;
  if (o.has("torus")) {
    auto dims = coll::parse_torus_dims(o.text("torus"));
    if (!dims) return dims.error().at({"--torus"});
    torus = *dims;
  }
  int64_t ranks = 1;
  for (int d : torus) ranks *= d;
  if (o.has("ranks")) {
    if (o.integer("ranks") < 1)
      return invalid_input("--ranks must be at least 1", "e.g. --ranks 8", {"--ranks"});
    if (!torus.empty() && o.integer("ranks") != ranks) {
      return invalid_input("torus " + o.text("torus") + " has " + std::to_string(ranks) + " ranks, not " +
                               std::to_string(o.integer("ranks")),
                           "the dimensions must multiply to --ranks; or drop --ranks", {"--torus"});
    }
    ranks = o.integer("ranks");
  } else if (torus.empty()) {
    return invalid_input("give the ranks' shape", "--torus 8x8 for a torus, or --ranks 16 for a ring",
                         {"--torus"});
  }
  if (ranks > 1'000'000) return invalid_input("too many ranks", "use at most 1000000", {"--torus"});
  const int64_t rank = o.integer("rank");
  if (rank < 0 || rank >= ranks) {
    return invalid_input("rank " + std::to_string(rank) + " is out of range",
                         "ranks are 0.." + std::to_string(ranks - 1), {"--rank"});
  }
  const std::string& name = o.text("algo");
  const int dims = torus.empty() ? 1 : static_cast<int>(torus.size());
  // --port alone means the full multiport algorithm: two mirrored collectives per dimension.
  int64_t ports = 1;
  if (o.has("ports")) {
    ports = o.integer("ports");
  } else if (o.has("port") && coll::supports_multiport(name)) {
    ports = 2 * dims;
  }
  if (ports < 1 || ports > 64)
    return invalid_input("--ports must be in 1..64", "e.g. --ports 4", {"--ports"});
  coll::AlgorithmParams params{.collective = collective,
                               .ranks = static_cast<int>(ranks),
                               .torus = torus,
                               .ports = static_cast<int>(ports),
                               .ranks_per_node = static_cast<int>(o.integer("ranks-per-node"))};
  auto made = coll::make_algorithm(name, params);
  if (!made) {
    const Error& e = made.error();
    const bool about_name =
        e.code() == ErrorCode::kNotFound || e.message().find("does not implement") != std::string::npos;
    const bool about_ports = e.message().find("port") != std::string::npos;
    const bool about_nodes = e.message().find("ranks_per_node") != std::string::npos;
    return e.at({about_name    ? "--algo"
                 : about_ports ? "--ports"
                 : about_nodes ? "--ranks-per-node"
                               : "--torus"});
  }
  const coll::Algorithm& algo = **made;
  const int r = static_cast<int>(rank);
  coll::RankSchedule schedule;
  if (o.has("port")) {
    if (o.integer("port") < 0 || o.integer("port") >= ports) {
      return invalid_input("port " + std::to_string(o.integer("port")) + " is out of range",
                           "ports are 0.." + std::to_string(ports - 1) + " (set --ports for more)",
                           {"--port"});
    }
    auto s = coll::port_schedule(algo, r, static_cast<int>(o.integer("port")));
    if (!s) return s.error().at({"--port"});
    schedule = std::move(*s);
  } else {
    schedule = algo.schedule_for(r);
  }
  const std::vector<int> shape = torus.empty() ? std::vector<int>{static_cast<int>(ranks)} : torus;
  const std::vector<Exchange> rows = exchanges(schedule);

  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("algo", algo.name()).field("op", std::string(coll::to_string(collective)));
    w.key("torus").begin_array();
    for (int d : shape) w.value(d);
    w.end_array();
    w.field("ranks", ranks).field("rank", rank).field("ports", ports);
    if (o.has("port")) {
      w.field("port", o.integer("port"));
    } else {
      w.key("port").null();
    }
    w.field("block_count", algo.block_count())
        .field("step_count", static_cast<int64_t>(schedule.steps.size()));
    w.key("steps").begin_array();
    for (const Exchange& e : rows) {
      w.begin_object()
          .field("step", e.step)
          .field("peer", e.peer)
          .field("hops", coll::torus_hops(shape, r, e.peer));
      write_blocks(w, "send_blocks", e.sent);
      write_blocks(w, "recv_blocks", e.received);
      w.field("recv_kind", e.kind).end_object();
    }
    w.end_array();
    w.end_object();
    ctx.out << "\n";
    return {};
  }

  TableWriter t({"step", "peer", "hops", "sent blocks", "received blocks", "on receipt"});
  t.set_align(3, Align::kLeft);
  t.set_align(4, Align::kLeft);
  std::string title = algo.name() + " " + std::string(coll::to_string(collective)) + " on " +
                      (torus.empty() ? std::to_string(ranks) + " ranks" : "torus " + o.text("torus")) +
                      ", rank " + std::to_string(rank);
  if (o.has("port")) {
    title += ", port " + std::to_string(o.integer("port")) + " of " + std::to_string(ports);
  } else if (ports > 1) {
    title += ", all " + std::to_string(ports) + " ports";
  }
  title += ": " + std::to_string(schedule.steps.size()) + " steps, " + std::to_string(algo.block_count()) +
           " blocks";
  t.set_title(title);
  int last_step = -1;
  for (const Exchange& e : rows) {
    t.add_row({e.step == last_step ? "" : std::to_string(e.step), std::to_string(e.peer),
               std::to_string(coll::torus_hops(shape, r, e.peer)), compact(e.sent), compact(e.received),
               e.kind.empty() ? "-" : e.kind});
    last_step = e.step;
  }
  ctx.out << t.render();
  if (rows.empty()) ctx.out << "(no transfers: rank " << rank << " is idle)\n";
  return {};
}

}  // namespace

std::vector<Command> coll_peers_commands() {
  std::string names;
  for (const std::string& n : coll::all_algorithm_names()) names += (names.empty() ? "" : ", ") + n;
  return {
      {.group = "coll",
       .name = "peers",
       .summary = "one rank's schedule of a collective algorithm: each step's peer and blocks",
       .description =
           "Prints, step by step, whom the rank exchanges with, how many torus hops away, and which blocks\n"
           "it sends and receives (whole-vector algorithms such as recdoub and swing-lat have one block per\n"
           "port); received blocks are reduced into the local ones or copied over them. Blocks:\n"
           "reduce-scatter/allgather layouts give rank r the blocks r*ports .. r*ports+ports-1, so with one\n"
           "port block b is rank b's; alltoall block s*P+d goes from s to d. --port shows one of the\n"
           "concurrent mirrored collectives of swing-lat, swing-bw and bucket (alone it implies --ports\n"
           "2*dimensions).\n"
           "Examples:\n  mlsys coll peers --algo swing-bw --torus 8x8 --rank 0\n"
           "  mlsys coll peers --algo swing-bw --torus 4x4 --rank 0 --port 2 --json\n"
           "  mlsys coll peers --algo rabenseifner --ranks 12 --rank 1 --op reduce-scatter",
       .options =
           {{.name = "algo",
             .type = OptionType::kString,
             .description = "the algorithm: " + names,
             .required = true},
            {.name = "torus",
             .type = OptionType::kString,
             .description = "torus dimensions of the ranks, e.g. 8x8 or 4x4x4 (or give --ranks for a ring)"},
            {.name = "ranks",
             .type = OptionType::kInt,
             .description = "number of ranks (default: the torus's)"},
            {.name = "rank",
             .type = OptionType::kInt,
             .default_value = "0",
             .description = "the rank to show"},
            {.name = "op",
             .type = OptionType::kString,
             .default_value = "allreduce",
             .description = "the collective",
             .choices = {"allreduce", "reduce-scatter", "allgather", "alltoall"}},
            {.name = "ports",
             .type = OptionType::kInt,
             .description = "concurrent mirrored collectives, 1 .. 2 x dimensions (swing-lat, swing-bw, "
                            "bucket; default 1)"},
            {.name = "port", .type = OptionType::kInt, .description = "show only this port's transfers"},
            {.name = "ranks-per-node",
             .type = OptionType::kInt,
             .default_value = "1",
             .description = "consecutive ranks per node (hierarchical, 2dh, pipe-a2a)"}},
       .run = run_coll_peers},
  };
}

}  // namespace mlsys::cli
