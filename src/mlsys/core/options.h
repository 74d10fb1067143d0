// The option registry: every option a command takes, declared once with its name, type, unit,
// default and description. The same table drives command-line parsing, config-file keys,
// validation, `--help` and the generated CLI reference (docs/CLI.md).
//
//   const OptionSpec kLinkBw{"link-bw", OptionType::kBandwidth, "400Gbps", "per-link bandwidth"};
//   OptionValues v(specs);
//   MLSYS_RETURN_IF_ERROR(v.set("link-bw", "25GBps", {"--link-bw"}));
//   Bandwidth bw = v.bandwidth("link-bw");
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlsys/core/result.h"
#include "mlsys/core/units.h"

namespace mlsys {

enum class OptionType {
  kFlag,       // boolean switch: "true"/"false" in config files, bare --name on the command line
  kInt,        // signed integer
  kReal,       // real number without unit
  kString,     // free text (names, file paths, specs)
  kTime,       // "5us", "2h"
  kBytes,      // "64MiB", "1.5GB"
  kBandwidth,  // "400Gbps", "25GBps"
  kFlopRate,   // "312TFLOPS"
};

/// The unit or value form shown in --help and the reference ("TIME", "SIZE", ...).
std::string_view value_form(OptionType type);

struct OptionSpec {
  std::string name;         // without dashes: "link-bw"; also the config-file key
  OptionType type = OptionType::kString;
  std::string default_value;  // as the user would write it; empty = no default (optional)
  std::string description;  // one line; says the unit's meaning and accepted values
  std::vector<std::string> choices;  // non-empty: the value must be one of these
  bool required = false;
  bool positional = false;  // taken from the command line by position ("mlsys hw show NAME")
};

/// Resolved option values of one invocation: defaults, then a config file, then the command
/// line (later sources win). Values are validated and parsed when set.
class OptionValues {
 public:
  explicit OptionValues(std::span<const OptionSpec> specs);

  /// Sets `name` from text; `where` names the source (a config file line or "--name").
  Status set(std::string_view name, std::string_view text, Location where);
  /// Checks that every required option has a value.
  Status check_required() const;

  bool has(std::string_view name) const;
  const std::string& text(std::string_view name) const;
  bool flag(std::string_view name) const;
  int64_t integer(std::string_view name) const;
  double real(std::string_view name) const;
  Time time(std::string_view name) const;
  Bytes bytes(std::string_view name) const;
  Bandwidth bandwidth(std::string_view name) const;
  FlopRate flop_rate(std::string_view name) const;

  /// The option's spec, or nullptr for a name that is not declared.
  const OptionSpec* spec(std::string_view name) const;
  std::span<const OptionSpec> specs() const { return specs_; }
  /// Every option with a value, in declaration order, as the user would write it.
  std::vector<std::pair<std::string, std::string>> resolved() const;

 private:
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::string, std::less<>> values_;
};

/// Checks that `text` is a valid value of `spec` (unit present, number well-formed, in choices).
Status validate_option_value(const OptionSpec& spec, std::string_view text);

}  // namespace mlsys
