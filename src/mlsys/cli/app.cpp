// run_cli: builds the CLI11 parser from the command registry, resolves options (defaults, then
// --config file, then the command line), runs the command and maps its Status to an exit code.

#include <CLI/CLI.hpp>

#include <deque>
#include <iostream>
#include <map>
#include <memory>

#include "mlsys/cli/command.h"
#include "mlsys/core/check.h"
#include "mlsys/core/log.h"
#include "mlsys/core/strings.h"
#include "mlsys/core/value.h"
#include "mlsys/core/yaml_reader.h"

#ifndef MLSYS_VERSION
#define MLSYS_VERSION "0.0.0"
#endif
#ifndef MLSYS_GIT_HASH
#define MLSYS_GIT_HASH "unknown"
#endif

namespace mlsys::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 3;

}  // namespace

const std::vector<OptionSpec>& global_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "seed", .type = OptionType::kInt, .default_value = "0",
       .description = "seed for every random stream; the same seed gives the same bytes out"},
      {.name = "json", .type = OptionType::kFlag, .description = "print machine-readable JSON on stdout"},
      {.name = "out", .type = OptionType::kString, .description = "directory to write reports into"},
      {.name = "trace", .type = OptionType::kString,
       .description = "write a Chrome-trace timeline (open in ui.perfetto.dev) to this file"},
      {.name = "plot", .type = OptionType::kString, .description = "write an SVG plot to this file"},
      {.name = "quiet", .type = OptionType::kFlag, .description = "no progress bar or notes on stderr"},
      {.name = "log", .type = OptionType::kString, .default_value = "warn",
       .description = "stderr log level", .choices = {"error", "warn", "info", "debug"}},
      {.name = "config", .type = OptionType::kString,
       .description = "YAML or JSON file whose keys are this command's option names"},
  };
  return specs;
}

namespace {

const std::vector<OptionSpec>& global_option_specs() { return global_options(); }

int exit_code_for(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kIo:
    case ErrorCode::kUnsupported: return kExitBadInput;
    case ErrorCode::kCheckFailed: return kExitCheckFailed;
    case ErrorCode::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

std::string describe(const OptionSpec& o) {
  std::string d = o.description;
  if (!o.choices.empty()) d += " [" + join(o.choices, "|") + "]";
  if (!o.default_value.empty()) d += " (default " + o.default_value + ")";
  if (o.required) d += " (required)";
  return d;
}

std::vector<std::string> flag_names(std::span<const OptionSpec> a, std::span<const OptionSpec> b) {
  std::vector<std::string> names;
  for (const auto& o : a) {
    if (!o.positional) names.push_back("--" + o.name);
  }
  for (const auto& o : b) names.push_back("--" + o.name);
  return names;
}

// The text of a config value as it would be written on the command line; lists join with commas.
Result<std::string> config_text(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString: return v.as_string();
    case Value::Kind::kBool: return std::string(*v.as_bool() ? "true" : "false");
    case Value::Kind::kNumber: {
      if (v.is_integer()) return std::to_string(*v.as_int64());
      std::ostringstream s;
      s << *v.as_number();
      return s.str();
    }
    case Value::Kind::kArray: {
      std::string joined;
      for (const Value& item : v.items()) {
        if (item.is_array() || item.is_object()) break;
        MLSYS_ASSIGN_OR_RETURN(std::string t, config_text(item));
        joined += (joined.empty() ? "" : ",") + t;
      }
      return joined;
    }
    default:
      return invalid_input("expected a value, got " + std::string(v.kind_name()),
                           "write a scalar (or a list of scalars)", v.location());
  }
}

// Applies a config file: keys are the command's option names or global option names.
Status apply_config(const std::string& path, const Command& cmd, OptionValues& values, OptionValues& globals) {
  MLSYS_ASSIGN_OR_RETURN(Value doc, read_config_file(path));
  if (!doc.is_object()) {
    return invalid_input("a config file must be a mapping of option names to values",
                         "e.g. 'topology: torus:8x8'", doc.location());
  }
  std::vector<std::string> allowed;
  for (const auto& o : cmd.options) allowed.push_back(o.name);
  for (const auto& o : global_option_specs()) {
    if (o.name != "config") allowed.push_back(o.name);
  }
  MLSYS_RETURN_IF_ERROR(doc.check_keys(allowed));
  for (const Member& m : doc.members()) {
    MLSYS_ASSIGN_OR_RETURN(std::string text, config_text(m.value));
    OptionValues& target = values.spec(m.key) != nullptr ? values : globals;
    MLSYS_RETURN_IF_ERROR(target.set(m.key, text, m.value.location()));
    log(LogLevel::kInfo, "config: " + m.key + " = " + text + " (" + path + ":" +
                             std::to_string(m.value.line()) + ")");
  }
  return {};
}

// Parser state for one command: CLI11 writes option texts here, then we validate them.
struct Bound {
  const Command* cmd = nullptr;
  CLI::App* app = nullptr;
  std::deque<std::string> texts;  // stable addresses for CLI11
  std::deque<bool> flags;
  std::vector<std::pair<const OptionSpec*, CLI::Option*>> opts;
};

void bind_option(CLI::App& app, const OptionSpec& o, std::deque<std::string>& texts,
                 std::deque<bool>& flags, std::vector<std::pair<const OptionSpec*, CLI::Option*>>& opts) {
  CLI::Option* opt = nullptr;
  if (o.type == OptionType::kFlag) {
    flags.push_back(false);
    opt = app.add_flag("--" + o.name, flags.back(), describe(o));
  } else if (o.positional) {
    texts.emplace_back();
    opt = app.add_option(o.name, texts.back(), describe(o));
    opt->type_name(std::string(value_form(o.type)));
  } else {
    texts.emplace_back();
    opt = app.add_option("--" + o.name, texts.back(), describe(o));
    opt->type_name(std::string(value_form(o.type)));
  }
  opts.emplace_back(&o, opt);
}

// Moves the texts CLI11 collected into validated OptionValues.
Status collect(const Bound& b, const std::deque<std::string>& texts, const std::deque<bool>& flags,
               OptionValues& values) {
  size_t ti = 0;
  size_t fi = 0;
  for (const auto& [spec, opt] : b.opts) {
    if (spec->type == OptionType::kFlag) {
      const bool set = flags[fi++];
      if (opt->count() > 0) MLSYS_RETURN_IF_ERROR(values.set(spec->name, set ? "true" : "false", {"--" + spec->name}));
    } else {
      const std::string& text = texts[ti++];
      if (opt->count() > 0) {
        const std::string label = spec->positional ? spec->name : "--" + spec->name;
        MLSYS_RETURN_IF_ERROR(values.set(spec->name, text, {label}));
      }
    }
  }
  return {};
}

class Formatter : public CLI::Formatter {
 public:
  Formatter() { column_width(34); }
};

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App root("mlsys: plan, simulate and run large ML systems with the 2024 research built in.", "mlsys");
  root.formatter(std::make_shared<Formatter>());
  root.set_help_all_flag("--help-all", "print help for every command");
  root.footer("Run 'mlsys GROUP --help' or 'mlsys GROUP COMMAND --help' for details. Reference: docs/CLI.md");
  root.allow_extras();
  root.fallthrough();
  bool want_version = false;
  root.add_flag("--version", want_version, "print the version and git commit");

  Bound globals_bound;
  std::deque<std::string> global_texts;
  std::deque<bool> global_flags;
  for (const auto& o : global_option_specs()) bind_option(root, o, global_texts, global_flags, globals_bound.opts);

  std::map<std::string, CLI::App*> group_apps;
  std::deque<Bound> bound;
  for (const Group& g : all_groups()) {
    CLI::App* ga = root.add_subcommand(g.name, g.summary);
    ga->allow_extras();
    ga->fallthrough();
    group_apps[g.name] = ga;
  }
  for (const Command& c : all_commands()) {
    CLI::App* ga = group_apps.at(c.group);
    CLI::App* ca = ga->add_subcommand(c.name, c.summary);
    ca->description(c.summary + "\n\n" + c.description);
    ca->allow_extras();
    ca->fallthrough();
    Bound& b = bound.emplace_back();
    b.cmd = &c;
    b.app = ca;
    for (const auto& o : c.options) bind_option(*ca, o, b.texts, b.flags, b.opts);
  }

  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // The deepest parsed subcommand asked for help.
    const CLI::App* target = &root;
    while (!target->get_subcommands().empty()) target = target->get_subcommands().front();
    out << target->help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << root.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "mlsys: error: " << e.what() << " (see 'mlsys --help')\n";
    return kExitBadInput;
  }

  if (want_version) {
    out << version_string() << "\n";
    return kExitOk;
  }

  // Which command ran?
  const CLI::App* group = root.get_subcommands().empty() ? nullptr : root.get_subcommands().front();
  if (group == nullptr) {
    auto extras = root.remaining();
    if (!extras.empty()) {
      std::vector<std::string> names;
      for (const Group& g : all_groups()) names.push_back(g.name);
      const std::string hint = did_you_mean(extras.front(), names);
      err << "mlsys: error: unknown command or option '" << extras.front() << "' ("
          << (hint.empty() ? "groups: " + join(names, ", ") : hint) << ")\n";
      return kExitBadInput;
    }
    out << root.help();
    return kExitOk;
  }
  const Bound* chosen = nullptr;
  for (const Bound& b : bound) {
    if (b.app->parsed()) chosen = &b;
  }
  if (chosen == nullptr) {
    std::vector<std::string> names;
    for (const Command& c : all_commands()) {
      if (c.group == group->get_name()) names.push_back(c.name);
    }
    auto extras = root.remaining(true);
    if (!extras.empty()) {
      const std::string hint = did_you_mean(extras.front(), names);
      err << "mlsys: error: unknown command '" << group->get_name() << " " << extras.front() << "' ("
          << (hint.empty() ? "commands: " + join(names, ", ") : hint) << ")\n";
    } else {
      err << "mlsys: error: missing command after '" << group->get_name() << "' (commands: "
          << join(names, ", ") << "; see 'mlsys " << group->get_name() << " --help')\n";
    }
    return kExitBadInput;
  }
  const Command& cmd = *chosen->cmd;
  const std::string path = cmd.group + " " + cmd.name;

  // Unknown flags or stray arguments are errors, with a "did you mean".
  std::vector<std::string> extras = root.remaining(true);
  if (!extras.empty()) {
    const std::string& bad = extras.front();
    const std::string flag = bad.substr(0, bad.find('='));
    const std::string hint = did_you_mean(flag, flag_names(cmd.options, global_option_specs()));
    err << "mlsys: error: " << (bad.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '")
        << bad << "' for 'mlsys " << path << "' ("
        << (hint.empty() ? "see 'mlsys " + path + " --help'" : hint) << ")\n";
    return kExitBadInput;
  }

  OptionValues globals(global_option_specs());
  OptionValues values(cmd.options);
  Status st = collect(globals_bound, global_texts, global_flags, globals);
  // The log level must be known before the config file logs its changes.
  if (st && globals.has("log")) set_log_level(*parse_log_level(globals.text("log")));
  if (st && globals.has("config")) st = apply_config(globals.text("config"), cmd, values, globals);
  if (st) st = collect(globals_bound, global_texts, global_flags, globals);  // command line wins
  if (st) st = collect(*chosen, chosen->texts, chosen->flags, values);
  if (st) st = values.check_required();
  if (!st) {
    err << ("mlsys: error: " + st.error().to_string() + "\n");  // one write: ranks may share stderr
    return exit_code_for(st.error());
  }
  set_log_level(*parse_log_level(globals.text("log")));

  GlobalOptions g;
  g.seed = static_cast<uint64_t>(globals.integer("seed"));
  g.json = globals.flag("json");
  g.quiet = globals.flag("quiet");
  g.log = globals.text("log");
  if (globals.has("out")) g.out = globals.text("out");
  if (globals.has("trace")) g.trace = globals.text("trace");
  if (globals.has("plot")) g.plot = globals.text("plot");
  if (globals.has("config")) g.config = globals.text("config");

  Context ctx{values, g, out, err, path};
  st = cmd.run(ctx);
  if (!st) {
    err << ("mlsys: error: " + st.error().to_string() + "\n");  // one write: ranks may share stderr
    return exit_code_for(st.error());
  }
  return kExitOk;
}

}  // namespace

std::string version_string() {
  return std::string("mlsys ") + MLSYS_VERSION + " (git " + MLSYS_GIT_HASH + ")";
}

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  try {
    return run(argc, argv, out, err);
  } catch (const InternalError& e) {
    err << "mlsys: internal error: " << e.what() << " (please report this bug)\n";
  } catch (const std::bad_alloc&) {
    err << "mlsys: error: out of memory (try a smaller input)\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    err << "mlsys: internal error: " << e.what() << " (please report this bug)\n";
  }
  return kExitInternal;
}

}  // namespace mlsys::cli
