// mlsys reproduce NAME|all: one command per registered scenario.

#include <ostream>
#include <sstream>

#include "mlsys/cli/internal/groups.h"
#include "mlsys/cli/internal/output.h"
#include "mlsys/core/progress.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/table_writer.h"
#include "mlsys/reproduce/scenario.h"

namespace mlsys::cli {
namespace {

void write_report_json(JsonWriter& w, const reproduce::ScenarioReport& r) {
  w.begin_object().field("scenario", r.scenario).field("title", r.title).field("passed", r.passed());
  w.key("checks").begin_array();
  for (const auto& c : r.checks) {
    w.begin_object().field("metric", c.metric).field("unit", c.unit).field("reference", c.reference);
    w.field("ours", c.ours).field("envelope", c.envelope).field("pass", c.pass).field("source", c.source);
    w.end_object();
  }
  w.end_array();
  w.key("notes").begin_array();
  for (const auto& n : r.notes) w.value(n);
  w.end_array().end_object();
}

std::string render_report(const reproduce::ScenarioReport& r) {
  TableWriter t({"check", "reference", "ours", "unit", "envelope", "result"});
  t.set_title(r.scenario + ": " + r.title);
  for (const auto& c : r.checks) {
    t.add_row({c.metric, fmt(c.reference, 5), fmt(c.ours, 5), c.unit, c.envelope, c.pass ? "pass" : "FAIL"});
  }
  std::string s = t.render();
  for (const auto& n : r.notes) s += "  note: " + n + "\n";
  return s;
}

Status run_reproduce(Context& ctx) {
  // "reproduce swing" runs the scenario named like the command.
  const std::string name = ctx.command_path.substr(ctx.command_path.find(' ') + 1);
  std::vector<const reproduce::Scenario*> chosen;
  std::vector<std::string> names = {"all"};
  for (const auto& s : reproduce::all_scenarios()) {
    names.push_back(s.name);
    if (name == "all" || name == s.name) chosen.push_back(&s);
  }
  if (chosen.empty()) {
    const std::string hint = did_you_mean(name, names);
    return not_found("unknown scenario '" + name + "'", hint.empty() ? "scenarios: " + join(names, ", ") : hint,
                     {"scenario"});
  }
  std::vector<reproduce::ScenarioReport> reports;
  ProgressBar bar("reproduce", static_cast<int64_t>(chosen.size()), ctx.global.quiet);
  for (const auto* s : chosen) {
    MLSYS_ASSIGN_OR_RETURN(reproduce::ScenarioReport r, s->run({.seed = ctx.global.seed, .quick = ctx.options.flag("quick")}));
    reports.push_back(std::move(r));
    bar.advance();
  }
  bar.finish();
  bool passed = true;
  std::string text;
  for (const auto& r : reports) {
    passed = passed && r.passed();
    text += render_report(r) + "\n";
  }
  std::ostringstream json;
  {
    JsonWriter w(json);
    begin_json_result(w, ctx);
    w.field("passed", passed).key("scenarios").begin_array();
    for (const auto& r : reports) write_report_json(w, r);
    w.end_array().end_object();
    json << "\n";
  }
  ctx.out << (ctx.global.json ? json.str() : text);
  if (!ctx.global.out.empty()) {
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.out + "/report.txt", text, "report"));
    MLSYS_RETURN_IF_ERROR(write_side_file(ctx, ctx.global.out + "/report.json", json.str(), "JSON report"));
  }
  if (!passed) return Error(ErrorCode::kCheckFailed, "some checks failed", "see the FAIL lines above");
  return {};
}

}  // namespace

std::vector<Command> reproduce_commands() {
  std::vector<Command> commands;
  const OptionSpec quick{.name = "quick", .type = OptionType::kFlag, .description = "smaller sizes (for tests)"};
  std::string list;
  for (const auto& s : reproduce::all_scenarios()) {
    list += "\n  " + s.name + ": " + s.summary;
    commands.push_back({.group = "reproduce",
                        .name = s.name,
                        .summary = s.summary,
                        .description = "Prints ours beside the reference figure, pass/fail per line; exit code 1 when a "
                                       "check fails.\nExample: mlsys reproduce " + s.name + " --json",
                        .options = {quick},
                        .run = run_reproduce});
  }
  commands.insert(commands.begin(),
                  {.group = "reproduce",
                   .name = "all",
                   .summary = "run every validation scenario and write a report (what make demo runs)",
                   .description = "Scenarios:" + list + "\nExample: mlsys reproduce all --out out/demo",
                   .options = {quick},
                   .run = run_reproduce});
  return commands;
}

}  // namespace mlsys::cli
