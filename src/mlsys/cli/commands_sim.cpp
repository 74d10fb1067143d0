// mlsys sim bench: the engine's self-benchmark.

#include <ostream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/sim/hold_model.h"

namespace mlsys::cli {
namespace {

Status run_sim_bench(Context& ctx) {
  const int64_t pending = ctx.options.integer("pending");
  const int64_t events = ctx.options.integer("events");
  auto r = sim::run_hold_model({.pending = pending, .events = events, .seed = ctx.global.seed});
  if (!r) return r.error().at({"--pending"});
  if (ctx.global.json) {
    JsonWriter w(ctx.out);
    begin_json_result(w, ctx);
    w.field("pending", pending).field("events", static_cast<int64_t>(r->summary.events_processed));
    w.field("wall_s", r->summary.wall_seconds).field("events_per_s", r->summary.events_per_second);
    w.field("checksum", static_cast<int64_t>(r->checksum & 0x7fffffffffffffffULL)).end_object();
    ctx.out << "\n";
    return {};
  }
  ctx.out << "hold model, " << pending << " pending: " << r->summary.to_string() << "\n";
  return {};
}

}  // namespace

std::vector<Command> sim_commands() {
  return {
      {.group = "sim",
       .name = "bench",
       .summary = "the engine's self-benchmark: the hold model through the full event engine",
       .description = "Each of --pending components holds one wake-up and reschedules itself at now + U[1, 10^6] ns.\n"
                      "Example: mlsys sim bench --pending 1000000 --events 5000000",
       .options = {{.name = "pending", .type = OptionType::kInt, .default_value = "10000",
                    .description = "wake-ups held in the queue"},
                   {.name = "events", .type = OptionType::kInt, .default_value = "5000000",
                    .description = "wake-ups to process"}},
       .run = run_sim_bench},
  };
}

}  // namespace mlsys::cli
